/*
 * The first guest: greets through the UART with its VM name and id from
 * hypercalls, writes one line through HC_CONSOLE_WRITE and checks the
 * hypercalls that take no input. Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("hello");

static const char via_hypercall[] = "hello: via hypercall\n";

int main(const struct hv_boot_info *bi)
{
	char name[64];
	long ver, id, len, wrote, yield;
	int fail = 0;

	ver = hypercall(HC_VERSION, 0, 0, 0);
	id = hypercall(HC_VM_ID, 0, 0, 0);
	memset(name, 0x7e, sizeof(name));
	len = hypercall(HC_VM_NAME, (long)name, sizeof(name), 0);
	if (len < 0 || len >= (long)sizeof(name) || name[len] != '\0') {
		fail += check(0, "HC_VM_NAME returned %ld and a name that is not NUL-terminated there", len);
		name[sizeof(name) - 1] = '\0';
	}
	printf("hello: hello from %s (vm %ld)\n", len >= 0 ? name : "?", id);

	fail += check(ver == HV_ABI_VERSION, "HC_VERSION = %ld (want %d)", ver, HV_ABI_VERSION);
	fail += check(id == bi->vm_id, "HC_VM_ID = %ld matches boot info vm_id %u", id, bi->vm_id);
	fail += check(len > 0 && (size_t)len == strlen(name), "HC_VM_NAME length %ld", len);

	wrote = hypercall(HC_CONSOLE_WRITE, (long)via_hypercall, sizeof(via_hypercall) - 1, 0);
	fail += check(wrote == sizeof(via_hypercall) - 1, "HC_CONSOLE_WRITE returned %ld (want %zu)",
		      wrote, sizeof(via_hypercall) - 1);
	yield = hypercall(HC_YIELD, 0, 0, 0);
	fail += check(yield == 0, "HC_YIELD = %ld", yield);

	printf("hello: %s\n", fail ? "FAIL" : "PASS");
	return fail;
}
