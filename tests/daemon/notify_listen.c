/* notify_listen: a stand-in for systemd's notify socket, for
 * tests/daemon/test_notify.sh (no socat or python3 needed).
 *
 *   notify_listen SOCKET OUT
 *
 * Binds a unix datagram socket at SOCKET and appends every line of every
 * datagram to OUT as "PID LINE" (PID from the kernel's SCM_CREDENTIALS,
 * so the test can check the sender), flushed at once. Runs until SIGTERM
 * or SIGINT, or 60 s at most so a broken test never leaves it behind;
 * unlinks SOCKET on the way out.
 */
#define _GNU_SOURCE /* struct ucred */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t done;

static void on_signal(int sig) {
  (void)sig;
  done = 1;
}

/* Write each line of msg (n bytes) to out, prefixed with pid. */
static void write_lines(FILE *out, long pid, const char *msg, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && msg[i] != '\n') continue;
    if (i > start)
      fprintf(out, "%ld %.*s\n", pid, (int)(i - start), msg + start);
    start = i + 1;
  }
  fflush(out);
}

/* Bind a datagram socket at path with SO_PASSCRED; -1 on failure. */
static int bind_socket(const char *path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(sa.sun_path)) {
    fprintf(stderr, "notify_listen: socket path too long\n");
    return -1;
  }
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
      bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    perror("notify_listen");
    return -1;
  }
  return fd;
}

/* Receive one datagram into buf; its sender's pid into *pid (0: none). */
static ssize_t receive(int fd, char *buf, size_t cap, long *pid) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(struct ucred))];
  } ctl;
  struct iovec iov = {buf, cap};
  struct msghdr mh;
  memset(&mh, 0, sizeof(mh));
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof(ctl.buf);
  ssize_t n = recvmsg(fd, &mh, 0);
  *pid = 0;
  if (n < 0) return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      struct ucred uc;
      memcpy(&uc, CMSG_DATA(c), sizeof(uc));
      *pid = (long)uc.pid;
    }
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: notify_listen SOCKET OUT\n");
    return 2;
  }
  FILE *out = fopen(argv[2], "a");
  if (out == NULL) {
    perror(argv[2]);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* no SA_RESTART: recvmsg returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGALRM, &sa, NULL);
  alarm(60);

  int fd = bind_socket(argv[1]);
  if (fd < 0) return 1;
  char buf[4096];
  while (!done) {
    long pid;
    ssize_t n = receive(fd, buf, sizeof(buf), &pid);
    if (n > 0) write_lines(out, pid, buf, (size_t)n);
  }
  close(fd);
  unlink(argv[1]);
  fclose(out);
  return 0;
}
