/*
 * The one-frame-per-echo load generator: C, epoll, one thread. It opens CONNECTIONS WebSocket
 * connections to 127.0.0.1:PORT and, while running, keeps INFLIGHT messages of SIZE bytes outstanding
 * on each, answering every echo it reads with one write of one masked frame, as many small clients
 * (or one that sends on each message event) do. Built by bench/pump.ts; see docs/benchmarks.md.
 *
 *   pump PORT CONNECTIONS INFLIGHT SIZE text|binary COUNTER_FILE
 *
 * Commands on stdin, one letter a line: r (run), p (pause: answer "paused" on stdout once every
 * message sent has come back), q (quit: answer "bytes N" with the payload bytes received, then exit).
 * Echoes received so far are kept as a little-endian uint64 at the start of COUNTER_FILE (a mapped
 * file), so the harness reads the count at any moment without asking.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BYTES (256 * 1024)

typedef struct {
  int fd;
  uint8_t *partial; /* the unread tail of the last read: an incomplete frame header or payload */
  size_t partialLength;
  size_t partialCapacity;
  uint8_t *pending; /* frame bytes a write could not take yet */
  size_t pendingLength;
  size_t pendingCapacity;
} Conn;

static void fail(const char *what) {
  fprintf(stderr, "pump: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static void append(uint8_t **buffer, size_t *length, size_t *capacity, const uint8_t *bytes, size_t count) {
  if (*length + count > *capacity) {
    *capacity = (*length + count) * 2;
    *buffer = realloc(*buffer, *capacity);
    if (!*buffer) fail("realloc");
  }
  memcpy(*buffer + *length, bytes, count);
  *length += count;
}

/* Writes what is pending, then `bytes`; keeps whatever the socket does not take. */
static void sendBytes(Conn *conn, const uint8_t *bytes, size_t count) {
  if (conn->pendingLength == 0) {
    ssize_t written = write(conn->fd, bytes, count);
    if (written < 0 && errno != EAGAIN) fail("write");
    if (written < 0) written = 0;
    bytes += written;
    count -= (size_t)written;
  }
  if (count > 0) append(&conn->pending, &conn->pendingLength, &conn->pendingCapacity, bytes, count);
}

static void flush(Conn *conn) {
  if (conn->pendingLength == 0) return;
  ssize_t written = write(conn->fd, conn->pending, conn->pendingLength);
  if (written < 0 && errno != EAGAIN) fail("write");
  if (written <= 0) return;
  memmove(conn->pending, conn->pending + written, conn->pendingLength - (size_t)written);
  conn->pendingLength -= (size_t)written;
}

/* Connects and upgrades; blocking, before the clock starts. */
static int openConnection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket");
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
  /* TCP_NODELAY stays off, as in a client that does not set it: with it, every frame's write is a
   * loopback transmit of its own and the pump, not the server, is the busy side (~150,000 echoes/s). */
  char request[256];
  int length = snprintf(request, sizeof request,
                        "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                        port);
  if (write(fd, request, (size_t)length) != length) fail("write upgrade");
  char head[4096];
  size_t got = 0;
  while (got < sizeof head - 1) {
    ssize_t n = read(fd, head + got, 1); /* byte by byte, so nothing after the head is taken */
    if (n <= 0) fail("read upgrade");
    got += (size_t)n;
    if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0) break;
  }
  head[got] = 0;
  if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
    errno = 0;
    fprintf(stderr, "pump: upgrade refused: %.80s\n", head);
    exit(1);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: pump PORT CONNECTIONS INFLIGHT SIZE text|binary COUNTER_FILE\n");
    return 2;
  }
  int port = atoi(argv[1]), connections = atoi(argv[2]), inflight = atoi(argv[3]);
  size_t size = (size_t)atol(argv[4]);
  int opcode = strcmp(argv[5], "text") == 0 ? 1 : 2;

  int counterFd = open(argv[6], O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (counterFd < 0 || ftruncate(counterFd, 8) < 0) fail("counter file");
  volatile uint64_t *counter = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, counterFd, 0);
  if (counter == MAP_FAILED) fail("mmap");

  /* The frame, built and masked once: the payload is 'x' repeated, as the JavaScript client's. */
  size_t headerLength = size < 126 ? 2 : size < 65536 ? 4 : 10;
  size_t frameLength = headerLength + 4 + size;
  uint8_t *frame = malloc(frameLength);
  frame[0] = (uint8_t)(0x80 | opcode);
  if (size < 126) {
    frame[1] = (uint8_t)(0x80 | size);
  } else if (size < 65536) {
    frame[1] = 0x80 | 126;
    frame[2] = (uint8_t)(size >> 8);
    frame[3] = (uint8_t)size;
  } else {
    frame[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) frame[2 + i] = (uint8_t)((uint64_t)size >> (56 - 8 * i));
  }
  const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  memcpy(frame + headerLength, mask, 4);
  for (size_t i = 0; i < size; i++) frame[headerLength + 4 + i] = (uint8_t)('x' ^ mask[i % 4]);

  int epoll = epoll_create1(0);
  Conn *conns = calloc((size_t)connections, sizeof(Conn));
  for (int i = 0; i < connections; i++) {
    conns[i].fd = openConnection(port);
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &conns[i]};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, conns[i].fd, &event) < 0) fail("epoll_ctl");
  }
  struct epoll_event control = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epoll, EPOLL_CTL_ADD, 0, &control);
  printf("ready\n");
  fflush(stdout);

  int running = 0, pausing = 0;
  uint64_t sent = 0, received = 0, payloadBytes = 0;
  uint8_t *buffer = malloc(READ_BYTES);
  struct epoll_event events[256];
  for (;;) {
    int ready = epoll_wait(epoll, events, 256, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) fail("epoll_wait");
    for (int e = 0; e < ready; e++) {
      Conn *conn = events[e].data.ptr;
      if (!conn) {
        char command[64];
        ssize_t n = read(0, command, sizeof command);
        if (n <= 0) return 0;
        for (ssize_t i = 0; i < n; i++) {
          if (command[i] == 'r') {
            running = 1;
            pausing = 0;
            for (int c = 0; c < connections; c++) {
              for (int k = 0; k < inflight; k++) sendBytes(&conns[c], frame, frameLength);
            }
            sent += (uint64_t)connections * (uint64_t)inflight;
          } else if (command[i] == 'p') {
            running = 0;
            pausing = 1;
          } else if (command[i] == 'q') {
            printf("bytes %llu\n", (unsigned long long)payloadBytes);
            fflush(stdout);
            return 0;
          }
        }
        if (pausing && received == sent) {
          pausing = 0;
          printf("paused\n");
          fflush(stdout);
        }
        continue;
      }
      if (events[e].events & EPOLLOUT) flush(conn);
      if (!(events[e].events & EPOLLIN)) continue;
      for (;;) {
        ssize_t n = read(conn->fd, buffer, READ_BYTES);
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
          errno = 0;
          fail("the server ended a connection");
        }
        append(&conn->partial, &conn->partialLength, &conn->partialCapacity, buffer, (size_t)n);
        size_t at = 0;
        while (conn->partialLength - at >= 2) {
          const uint8_t *head = conn->partial + at;
          uint64_t length = head[1] & 0x7f;
          size_t skip = 2;
          if (length == 126) {
            if (conn->partialLength - at < 4) break;
            length = (uint64_t)head[2] << 8 | head[3];
            skip = 4;
          } else if (length == 127) {
            if (conn->partialLength - at < 10) break;
            length = 0;
            for (int i = 0; i < 8; i++) length = length << 8 | head[2 + i];
            skip = 10;
          }
          if (conn->partialLength - at < skip + length) break;
          int op = head[0] & 0x0f;
          if (op == 8) {
            errno = 0;
            fail("the server sent a close frame");
          }
          at += skip + (size_t)length;
          if (op != 1 && op != 2) continue; /* a ping or pong is not an echo */
          received++;
          payloadBytes += length;
          if (running) {
            sendBytes(conn, frame, frameLength);
            sent++;
          }
        }
        memmove(conn->partial, conn->partial + at, conn->partialLength - at);
        conn->partialLength -= at;
        *counter = received;
      }
      if (pausing && received == sent) {
        pausing = 0;
        printf("paused\n");
        fflush(stdout);
      }
    }
  }
}
