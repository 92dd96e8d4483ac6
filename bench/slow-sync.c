/*
 * A slow-sync disk for the PostgreSQL benchmark (bench/postgres-driver.ts), the same on every machine: preloaded
 * into the server (LD_PRELOAD), every fdatasync and fsync does the real call, then waits CAPKIT_SYNC_DELAY_US
 * microseconds (default 3000: about 330 syncs/s, what the VM's own disk did on its slow days). PostgreSQL flushes
 * its WAL with fdatasync on Linux (wal_sync_method's default) while holding WALWriteLock, so commits that arrive
 * during a flush wait for it and go together in the next one: the group commit of a real slow disk.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void wait_after_sync(void) {
  const char *text = getenv("CAPKIT_SYNC_DELAY_US");
  long us = text ? atol(text) : 3000;
  struct timespec left = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&left, &left) != 0) {
  }
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  int r = real(fd);
  wait_after_sync();
  return r;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  int r = real(fd);
  wait_after_sync();
  return r;
}
