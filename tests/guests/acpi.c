/*
 * The VM's ACPI platform as a guest OS finds it: an RSDP at 0xE0000 with
 * valid checksums (ACPI 6.4 5.2.5), a FADT naming the PM1 blocks, a PM
 * timer that counts up, SCI_EN set. Then cmdline `action=poweroff` writes
 * SLP_TYP=5 with SLP_EN to PM1a_CNT, and `action=reboot` writes 0x06 to
 * the reset register 0xCF9; either ends this run of the guest.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("acpi");

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Find @sig in the XSDT; NULL if absent or damaged. */
static const uint8_t *find_table(const uint8_t *xsdt, const char *sig)
{
	uint32_t len = rd32(xsdt + 4);

	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		const uint8_t *t = (const uint8_t *)rd64(xsdt + off);

		if (!memcmp(t, sig, 4))
			return sum(t, rd32(t + 4)) == 0 ? t : NULL;
	}
	return NULL;
}

static int check_tables(uint16_t *pm1a_cnt, uint16_t *pm_tmr)
{
	const uint8_t *rsdp = (const uint8_t *)0xe0000;
	const uint8_t *xsdt, *fadt;
	int fail = 0;

	fail += check(!memcmp(rsdp, "RSD PTR ", 8), "RSDP signature at 0xE0000");
	fail += check(sum(rsdp, 20) == 0 && sum(rsdp, 36) == 0, "RSDP checksums");
	xsdt = (const uint8_t *)rd64(rsdp + 24);
	fail += check(!memcmp(xsdt, "XSDT", 4) && sum(xsdt, rd32(xsdt + 4)) == 0, "XSDT valid");
	fadt = find_table(xsdt, "FACP");
	fail += check(fadt != NULL, "FADT found with a valid checksum");
	fail += check(find_table(xsdt, "APIC") != NULL, "MADT found with a valid checksum");
	if (!fadt)
		return fail + 1;
	*pm1a_cnt = (uint16_t)rd32(fadt + 64);
	*pm_tmr = (uint16_t)rd32(fadt + 76);
	return fail;
}

int main(const struct hv_boot_info *bi)
{
	uint16_t cnt = 0, tmr = 0;
	const char *action = cmdline_get("action");
	int fail = check_tables(&cnt, &tmr);
	uint32_t t0, t1;

	(void)bi;
	t0 = inl(tmr);
	for (volatile int i = 0; i < 100000; i++)
		;
	t1 = inl(tmr);
	fail += check(t1 != t0, "PM timer at 0x%x counts: %u then %u", tmr, t0, t1);
	fail += check(inw(cnt) & 1, "SCI_EN set in PM1a_CNT (0x%x)", cnt);
	check(!fail, "%d failure(s)", fail);
	if (fail || !action)
		return fail;
	printf("acpi: %s now\n", action);
	if (!strcmp(action, "poweroff"))
		outw(cnt, (5 << 10) | (1 << 13));
	else if (!strcmp(action, "reboot"))
		outb(0xcf9, 0x06);
	return 0x55;   /* reached only if the request was ignored */
}
