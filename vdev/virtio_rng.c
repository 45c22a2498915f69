/*
 * virtio-rng (virtio 1.2 5.4), declared by `virtio_rng = yes`: one queue,
 * requestq, whose device-writable buffers the device fills with random
 * bytes from the CPU's RDRAND. No feature bits, no configuration.
 *
 * Per kick the device fills at most RNG_BUDGET chains and RNG_CHAIN_MAX
 * bytes of each (5.4.6.1 lets it use less than the whole buffer), so a
 * kick costs the kicking vCPU a bounded time. A driver that keeps more
 * than RNG_BUDGET buffers queued may have the rest wait for its next
 * kick; Linux keeps one.
 */
#include "arch/x86/cpu.h"
#include "core/printk.h"
#include "core/string.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/virtio_pci.h"

#define VIRTIO_ID_ENTROPY 4
#define RNG_BUDGET 32u
#define RNG_CHAIN_MAX 512u
#define RDRAND_RETRIES 10        /* Intel DRNG Software Implementation Guide 5.2.1 */
#define CPUID_1_ECX_RDRAND (1u << 30)
#define PCI_CLASS_UNASSIGNED 0xff0000u

struct virtio_rng {
	struct virtio_dev dev;
	bool added;
	bool warned;                 /* RDRAND ran dry, said once */
	struct virtq_chain chain;    /* the notify path's scratch, under the queue lock */
};

static struct virtio_rng rngs[CONFIG_MAX_VMS];

static bool has_rdrand(void)
{
	struct cpuid_regs r;

	cpuid_count(1, 0, &r);
	return r.ecx & CPUID_1_ECX_RDRAND;
}

/* RDRAND may fail for a moment when drained: retry, as the guide says. */
static bool rdrand64(uint64_t *v)
{
	for (unsigned i = 0; i < RDRAND_RETRIES; i++) {
		bool ok;

		asm volatile("rdrand %0" : "=r"(*v), "=@ccc"(ok));
		if (ok)
			return true;
	}
	return false;
}

/* Fill @len bytes at @p; returns how many were filled (fewer only if RDRAND failed). */
static uint32_t rng_fill_buf(uint8_t *p, uint32_t len)
{
	uint32_t done = 0;
	uint64_t v;

	while (done < len) {
		uint32_t n = len - done < 8 ? len - done : 8;

		if (!rdrand64(&v))
			break;
		memcpy(p + done, &v, n);
		done += n;
	}
	return done;
}

static uint32_t rng_fill(const struct virtq_chain *c, void *opaque)
{
	struct virtio_rng *r = opaque;
	uint32_t written = 0;

	for (unsigned i = 0; i < c->nseg && written < RNG_CHAIN_MAX; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint32_t want, got;

		if (!s->write)
			continue;
		want = s->len < RNG_CHAIN_MAX - written ? s->len : RNG_CHAIN_MAX - written;
		got = rng_fill_buf(s->hva, want);
		written += got;
		if (got < want) {
			if (!r->warned)
				pr_warn("virtio: VM %s dev virtio-rng: RDRAND failed %d times in a row\n",
					r->dev.vm->name, RDRAND_RETRIES);
			r->warned = true;
			break;
		}
	}
	return written;
}

static void rng_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_rng *r = d->priv;
	struct virtq *vq = virtio_pci_queue(d, q);

	if (!vq)
		return;
	if (virtq_service(vq, &d->mem, &r->chain, RNG_BUDGET, rng_fill, r) < 0)
		virtio_pci_needs_reset(d, (int)q, vq->reason);
	virtio_pci_notify_queue(d, q);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.type = VIRTIO_ID_ENTROPY,
	.class_code = PCI_CLASS_UNASSIGNED,
	.num_queues = 1,
	.queue_max = 64,
	.queue_notify = rng_notify,
};

static int virtio_rng_vm_create(struct vm *vm)
{
	struct virtio_rng *r = &rngs[vm->id];
	int err;

	memset(r, 0, sizeof(*r));
	if (!vm->cfg->virtio_rng)
		return 0;
	if (!has_rdrand()) {
		pr_warn("vm %s: virtio_rng: the CPU has no RDRAND (CPUID.1:ECX bit 30): no virtio-rng device\n",
			vm->name);
		return 0;
	}
	r->dev.ops = &rng_ops;
	r->dev.priv = r;
	err = virtio_pci_add(vm, &r->dev);
	if (err < 0)
		return err;
	r->added = true;
	return 0;
}

static void virtio_rng_vm_reset(struct vm *vm)
{
	struct virtio_rng *r = &rngs[vm->id];

	if (r->added)
		virtio_pci_reset(&r->dev);
}

DEFINE_UNIT(virtio_rng, .vm_create = virtio_rng_vm_create, .vm_reset = virtio_rng_vm_reset);
