/*
 * virtio-console (virtio 1.2 5.3), declared by `virtio_console = yes`:
 * one port, port 0, with its receiveq (queue 0) and transmitq (queue 1).
 * No feature bits: without VIRTIO_CONSOLE_F_MULTIPORT the driver makes
 * port 0 a console (Linux: hvc0), and there is no configuration space.
 * VIRTIO_CONSOLE_F_SIZE is not offered: the device does not know the
 * terminal's size, and the "[NAME] " prefix takes columns from it
 * anyway; the virtual UART reports no size either.
 *
 * Output: the readable buffers of each transmitq chain go to the
 * hypervisor console through vm_console, exactly like the UART's output
 * (a line at a time prefixed "[NAME] ", or live for the VM with the
 * console focus). Per kick at most TX_BUDGET chains and TX_CHAIN_MAX
 * bytes of each; the rest of an oversized chain is dropped and said
 * once. Linux sends one chain at a time and waits for it; a driver that
 * queues more than TX_BUDGET may have the rest wait for its next kick,
 * as virtq_service() says.
 *
 * Input: core/console_input.c offers each byte typed for the VM to
 * virtio_console_receive() first, which takes it once the driver is
 * ready; it waits in a small buffer (INPUT_SIZE bytes, dropped and
 * counted when full) until virtio_console_input_flush() after the poll,
 * or the driver's next kick of the receiveq, puts it into the driver's
 * receive buffers. Each receive chain takes as many bytes as wait and
 * fit.
 *
 * Locking: the transmitq's state is under its queue lock (the notify
 * path holds it); the receiveq's state, the input buffer included, is
 * under the receiveq's lock, which the console input path takes itself
 * (order: the console input lock, then the queue lock).
 */
#include "core/printk.h"
#include "core/string.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/virtio_console.h"
#include "vdev/virtio_pci.h"
#include "vdev/vm_console.h"

#define VIRTIO_ID_CONSOLE 3
#define PCI_CLASS_COMMUNICATION_OTHER 0x078000u
#define CON_RXQ 0u
#define CON_TXQ 1u
#define CON_QUEUE_MAX 64u
#define TX_BUDGET 16u
#define TX_CHAIN_MAX 4096u
#define TX_CHUNK 64u                /* bytes copied out of guest memory at a time */
#define INPUT_SIZE 256u

/* Typed bytes waiting for a receive buffer: a ring of INPUT_SIZE. */
struct con_input {
	uint8_t buf[INPUT_SIZE];
	uint16_t head, len;
	uint64_t dropped;             /* since the last report */
	bool drop_said;               /* "dropping" said, the count not yet */
};

struct virtio_con {
	struct virtio_dev dev;
	bool added;
	/* Under the receiveq's lock. */
	bool rx_ready;                /* the driver posted receive buffers since reset */
	struct con_input in;
	struct virtq_chain rx_chain;
	/* Under the transmitq's lock. */
	bool tx_said;                 /* an oversized chain was reported */
	struct virtq_chain tx_chain;
};

static struct virtio_con cons[CONFIG_MAX_VMS];

/* ---- The input buffer ---------------------------------------------------- */

static bool input_put(struct con_input *in, uint8_t c)
{
	if (in->len == INPUT_SIZE) {
		in->dropped++;
		return false;
	}
	in->buf[(in->head + in->len) % INPUT_SIZE] = c;
	in->len++;
	return true;
}

/* Move up to @n waiting bytes to @dst; returns how many. */
static uint32_t input_take(struct con_input *in, uint8_t *dst, uint32_t n)
{
	uint32_t done = 0;

	while (done < n && in->len) {
		uint32_t run = INPUT_SIZE - in->head;

		if (run > in->len)
			run = in->len;
		if (run > n - done)
			run = n - done;
		memcpy(dst + done, in->buf + in->head, run);
		done += run;
		in->head = (uint16_t)((in->head + run) % INPUT_SIZE);
		in->len = (uint16_t)(in->len - run);
	}
	return done;
}

/* ---- receiveq ------------------------------------------------------------ */

static uint32_t rx_fill(struct virtio_con *con, const struct virtq_chain *c)
{
	uint32_t written = 0;

	for (unsigned i = 0; i < c->nseg && con->in.len; i++)
		if (c->seg[i].write)
			written += input_take(&con->in, c->seg[i].hva, c->seg[i].len);
	return written;
}

/* Say when typed bytes start being dropped, and how many when it ends. */
static void rx_report_drops(struct virtio_con *con)
{
	struct con_input *in = &con->in;

	if (in->dropped && !in->drop_said) {
		pr_warn("virtio: VM %s dev virtio-console: typed input dropped: "
			"the guest takes none\n", con->dev.vm->name);
		in->drop_said = true;
	} else if (in->drop_said && !in->len) {
		pr_info("virtio: VM %s dev virtio-console: %llu typed bytes were dropped\n",
			con->dev.vm->name, (unsigned long long)in->dropped);
		in->drop_said = false;
		in->dropped = 0;
	}
}

/*
 * Under the receiveq's lock: the waiting bytes into the driver's
 * receive buffers. Each chain taken takes at least one byte, so the loop
 * ends within INPUT_SIZE chains. When the ring runs dry, ask for a kick
 * (virtq_enable_notify(), which also looks once more).
 */
static void rx_flush(struct virtio_con *con)
{
	struct virtio_dev *d = &con->dev;
	struct virtq *vq = virtio_pci_queue(d, CON_RXQ);
	bool rechecked = false;
	int r;

	if (!vq)
		return;
	while (con->in.len) {
		r = virtq_pop(vq, &d->mem, &con->rx_chain);
		if (r < 0) {
			virtio_pci_needs_reset(d, (int)CON_RXQ, vq->reason);
			break;
		}
		if (r == 0) {
			if (rechecked || !virtq_enable_notify(vq))
				break;
			rechecked = true;
			continue;
		}
		if (!con->rx_chain.writable) {
			virtio_pci_needs_reset(d, (int)CON_RXQ,
					       "receive buffer not device-writable (5.3.6)");
			break;
		}
		virtq_push(vq, con->rx_chain.head, rx_fill(con, &con->rx_chain));
	}
	virtio_pci_notify_queue(d, CON_RXQ);
	rx_report_drops(con);
}

/* Under the receiveq's lock: does typed input go to this device? */
static bool rx_is_ready(struct virtio_con *con)
{
	struct virtq *vq = virtio_pci_queue(&con->dev, CON_RXQ);

	if (!vq)
		return false;
	/* Asking for kicks suits the receiveq: rx_flush() wants them. */
	if (!con->rx_ready)
		con->rx_ready = virtq_enable_notify(vq);
	return con->rx_ready;
}

bool virtio_console_receive(struct vm *vm, uint8_t c)
{
	struct virtio_con *con = &cons[vm->id];
	struct virtio_queue *q = &con->dev.q[CON_RXQ];
	bool taken;

	if (!con->added)
		return false;
	spin_lock(&q->lock);
	taken = rx_is_ready(con);
	if (taken)
		input_put(&con->in, c);
	spin_unlock(&q->lock);
	return taken;
}

bool virtio_console_listening(struct vm *vm)
{
	const struct virtio_con *con = &cons[vm->id];

	/* Unlocked: a stale answer costs one slow console poll at most. */
	return con->added && __atomic_load_n(&con->rx_ready, __ATOMIC_RELAXED);
}

void virtio_console_input_flush(struct vm *vm)
{
	struct virtio_con *con = &cons[vm->id];
	struct virtio_queue *q = &con->dev.q[CON_RXQ];

	if (!con->added)
		return;
	spin_lock(&q->lock);
	rx_flush(con);
	spin_unlock(&q->lock);
}

/* ---- transmitq ----------------------------------------------------------- */

/* Copied out a chunk at a time: the guest may change its buffer meanwhile. */
static uint32_t tx_out(const struct virtq_chain *c, void *opaque)
{
	struct virtio_con *con = opaque;
	uint32_t sent = 0;
	char chunk[TX_CHUNK];

	for (unsigned i = 0; i < c->nseg && sent < TX_CHAIN_MAX; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint32_t len = s->len < TX_CHAIN_MAX - sent ? s->len : TX_CHAIN_MAX - sent;

		if (s->write)
			break;          /* the readable ones come first (2.7.4.2) */
		for (uint32_t off = 0; off < len; off += TX_CHUNK) {
			uint32_t n = len - off < TX_CHUNK ? len - off : TX_CHUNK;

			memcpy(chunk, (const uint8_t *)s->hva + off, n);
			vm_console_write(con->dev.vm, chunk, n);
		}
		sent += len;
	}
	if (c->readable > TX_CHAIN_MAX && !con->tx_said) {
		pr_warn("virtio: VM %s dev virtio-console queue %u: a %llu-byte output buffer "
			"cut to %u bytes\n", con->dev.vm->name, CON_TXQ,
			(unsigned long long)c->readable, TX_CHAIN_MAX);
		con->tx_said = true;
	}
	return 0;       /* nothing written into the driver's buffers */
}

static void tx_service(struct virtio_con *con)
{
	struct virtio_dev *d = &con->dev;
	struct virtq *vq = virtio_pci_queue(d, CON_TXQ);

	if (!vq)
		return;
	if (virtq_service(vq, &d->mem, &con->tx_chain, TX_BUDGET, tx_out, con) < 0)
		virtio_pci_needs_reset(d, (int)CON_TXQ, vq->reason);
	virtio_pci_notify_queue(d, CON_TXQ);
}

/* ---- The device ---------------------------------------------------------- */

static void con_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_con *con = d->priv;

	if (q == CON_TXQ)
		tx_service(con);
	else
		rx_flush(con);          /* new receive buffers: what waits goes now */
}

/* With the device lock held, not the queues' (virtio_pci.h's order). */
static void con_reset(struct virtio_dev *d)
{
	struct virtio_con *con = d->priv;

	spin_lock(&d->q[CON_RXQ].lock);
	con->rx_ready = false;
	con->in = (struct con_input){ 0 };
	spin_unlock(&d->q[CON_RXQ].lock);
	spin_lock(&d->q[CON_TXQ].lock);
	con->tx_said = false;
	spin_unlock(&d->q[CON_TXQ].lock);
}

static const struct virtio_dev_ops con_ops = {
	.name = "virtio-console",
	.type = VIRTIO_ID_CONSOLE,
	.class_code = PCI_CLASS_COMMUNICATION_OTHER,
	.num_queues = 2,
	.queue_max = CON_QUEUE_MAX,
	.queue_notify = con_notify,
	.reset = con_reset,
};

static int virtio_console_vm_create(struct vm *vm)
{
	struct virtio_con *con = &cons[vm->id];
	int err;

	memset(con, 0, sizeof(*con));
	if (!vm->cfg->virtio_console)
		return 0;
	con->dev.ops = &con_ops;
	con->dev.priv = con;
	err = virtio_pci_add(vm, &con->dev);
	if (err < 0)
		return err;
	con->added = true;
	return 0;
}

static void virtio_console_vm_reset(struct vm *vm)
{
	struct virtio_con *con = &cons[vm->id];

	if (con->added)
		virtio_pci_reset(&con->dev);
}

DEFINE_UNIT(virtio_console, .vm_create = virtio_console_vm_create,
	    .vm_reset = virtio_console_vm_reset);
