/* SPDX-License-Identifier: MIT */
/*
 * A FUSE file system of a few one-page files whose reads the test answers
 * when it chooses: a process that faults one of them in from inside the
 * kernel (a read of /proc/self/mem, whose page lookup holds the mmap_lock
 * for reading and may not drop it) keeps holding its mmap_lock until the
 * test releases the read. With a writer queued behind it (mprotect), every
 * new taker of that mmap_lock waits: a contended mmap_lock, held for as long
 * as the test wants, with no timing involved.
 *
 * The server is a forked child speaking the FUSE protocol on /dev/fuse: the
 * few requests a lookup, an open, a fault and an unmount send.
 */
#ifndef KSHARE_FUSE_STALL_H
#define KSHARE_FUSE_STALL_H

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FS_MOUNT "/tmp/kt-fuse"
#define FS_FILES 4		/* FS_MOUNT/0 .. FS_MOUNT/3, inodes 2..5 */
#define FS_FILE_SIZE 4096

struct fuse_stall {
	pid_t server;
	int to_server;		/* a byte: answer the reads held so far */
	int from_server;	/* a byte per read the server holds */
};

static void fs_reply(int fd, uint64_t unique, int error, const void *out, size_t len)
{
	static char buf[sizeof(struct fuse_out_header) + 128 * 1024];
	struct fuse_out_header h = {
		.len = (uint32_t)(sizeof(h) + (error ? 0 : len)),
		.error = -error,
		.unique = unique,
	};

	memcpy(buf, &h, sizeof(h));
	if (!error && len)
		memcpy(buf + sizeof(h), out, len);
	if (write(fd, buf, h.len) < 0 && errno != ENOENT)
		_exit(3);	/* ENOENT: the request was interrupted */
}

static void fs_attr(uint64_t ino, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0444;
	a->nlink = ino == FUSE_ROOT_ID ? 2 : 1;
	a->size = ino == FUSE_ROOT_ID ? 0 : FS_FILE_SIZE;
	a->blocks = a->size / 512;
	a->blksize = 4096;
}

/* The server: answers everything at once but FUSE_READ, which it holds
 * until the test writes to @control. */
static void fs_serve(int dev, int control, int notify)
{
	static char in[FUSE_MIN_READ_BUFFER + 128 * 1024];
	static char data[128 * 1024];
	uint64_t held[64];
	uint32_t held_size[64];
	int nheld = 0;

	memset(data, 'k', sizeof(data));
	for (;;) {
		struct pollfd p[2] = { { .fd = dev, .events = POLLIN },
				       { .fd = control, .events = POLLIN } };
		struct fuse_in_header *h = (struct fuse_in_header *)in;
		char c;
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(4);
		}
		if (p[1].revents) {
			if (read(control, &c, 1) != 1)
				_exit(0);	/* the test is gone */
			for (int i = 0; i < nheld; i++)
				fs_reply(dev, held[i], 0, data,
					 held_size[i] < sizeof(data) ? held_size[i] : sizeof(data));
			nheld = 0;
		}
		if (!p[0].revents)
			continue;
		n = read(dev, in, sizeof(in));
		if (n < 0) {
			if (errno == ENODEV)
				_exit(0);	/* unmounted */
			if (errno == EINTR || errno == ENOENT)
				continue;
			_exit(5);
		}
		switch (h->opcode) {
		case FUSE_INIT: {
			struct fuse_init_out o = {
				.major = FUSE_KERNEL_VERSION,
				.minor = FUSE_KERNEL_MINOR_VERSION,
				.max_readahead = 4096,
				.max_write = 4096,
				.max_background = 16,
				.congestion_threshold = 12,
			};
			fs_reply(dev, h->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			const char *name = in + sizeof(*h);
			struct fuse_entry_out o = { 0 };

			if (name[0] < '0' || name[0] >= '0' + FS_FILES || name[1]) {
				fs_reply(dev, h->unique, ENOENT, NULL, 0);
				break;
			}
			o.nodeid = 2 + (name[0] - '0');
			o.attr_valid = o.entry_valid = 3600;
			fs_attr(o.nodeid, &o.attr);
			fs_reply(dev, h->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out o = { .attr_valid = 3600 };

			fs_attr(h->nodeid, &o.attr);
			fs_reply(dev, h->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = { .fh = h->nodeid };

			fs_reply(dev, h->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ: {
			const struct fuse_read_in *r = (const void *)(in + sizeof(*h));

			if (nheld == (int)(sizeof(held) / sizeof(held[0]))) {
				fs_reply(dev, h->unique, EIO, NULL, 0);
				break;
			}
			held[nheld] = h->unique;
			held_size[nheld++] = r->size;
			if (write(notify, "r", 1) != 1)
				_exit(6);
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
			break;		/* no reply */
		case FUSE_RELEASE:
		case FUSE_FLUSH:
			fs_reply(dev, h->unique, 0, NULL, 0);
			break;
		case FUSE_DESTROY:
			fs_reply(dev, h->unique, 0, NULL, 0);
			_exit(0);
		default:
			fs_reply(dev, h->unique, ENOSYS, NULL, 0);
			break;
		}
	}
}

/* Mount the file system and start its server: 0, or -1 with a reason. */
static int fuse_stall_start(struct fuse_stall *fs)
{
	int to[2], from[2], dev;
	char opts[128];

	mkdir(FS_MOUNT, 0755);
	dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		kt_diag("open /dev/fuse: %s (a kernel without CONFIG_FUSE_FS?)", strerror(errno));
		return -1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	if (mount("kt-fuse", FS_MOUNT, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		kt_diag("mount fuse: %s", strerror(errno));
		close(dev);
		return -1;
	}
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC)) {
		close(dev);
		return -1;
	}
	fs->server = fork();
	if (fs->server == 0) {
		close(to[1]);
		close(from[0]);
		fs_serve(dev, to[0], from[1]);
		_exit(0);
	}
	close(dev);
	close(to[0]);
	close(from[1]);
	fs->to_server = to[1];
	fs->from_server = from[0];
	return fs->server > 0 ? 0 : -1;
}

/* Wait (at most @ms) for the server to hold a read: 1 if it does. */
static int fuse_stall_read_held(struct fuse_stall *fs, int ms)
{
	struct pollfd p = { .fd = fs->from_server, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && read(fs->from_server, &c, 1) == 1;
}

/* Answer every read held so far. */
static void fuse_stall_release(struct fuse_stall *fs)
{
	if (write(fs->to_server, "go", 1) != 1)
		kt_diag("cannot reach the FUSE server");
}

static void fuse_stall_stop(struct fuse_stall *fs)
{
	fuse_stall_release(fs);
	umount2(FS_MOUNT, MNT_DETACH);
	close(fs->to_server);
	close(fs->from_server);
	waitpid(fs->server, NULL, 0);
}

#endif /* KSHARE_FUSE_STALL_H */
