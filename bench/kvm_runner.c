/* The reference point for bench/kvm-speed.ts: the smallest KVM runner that can run the benchmark guest. It takes a
 * RAM image and a vCPU start state prepared by kemu (kvm_regs, kvm_sregs, kvm_cpuid2, exactly as kemu's KVM
 * backend sets them), runs the guest with a plain KVM_RUN loop, writes COM1 output to stdout and reports, on
 * stderr, the exits and the time spent from the first KVM_RUN to the isa-debug-exit write.
 *
 *   kvm_runner RAM_IMAGE RAM_SIZE VCPU_STATE
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "kvm_runner: %s: %s\n", what, strerror(errno));
  exit(2);
}

static size_t read_file(const char *path, void *buf, size_t max) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die(path);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, (char *)buf + n, max - n);
    if (r < 0) die(path);
    if (r == 0) break;
    n += (size_t)r;
    if (n == max) break;
  }
  close(fd);
  return n;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: kvm_runner RAM_IMAGE RAM_SIZE VCPU_STATE\n");
    return 2;
  }
  size_t ram_size = strtoull(argv[2], NULL, 0);
  uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ram == MAP_FAILED) die("mmap RAM");
  read_file(argv[1], ram, ram_size);

  static uint8_t state[sizeof(struct kvm_regs) + sizeof(struct kvm_sregs) + 8 + 256 * sizeof(struct kvm_cpuid_entry2)];
  size_t n = read_file(argv[3], state, sizeof state);
  if (n < sizeof(struct kvm_regs) + sizeof(struct kvm_sregs) + 8) {
    fprintf(stderr, "kvm_runner: %s is too short\n", argv[3]);
    return 2;
  }
  struct kvm_regs *regs = (struct kvm_regs *)state;
  struct kvm_sregs *sregs = (struct kvm_sregs *)(state + sizeof *regs);
  struct kvm_cpuid2 *cpuid = (struct kvm_cpuid2 *)(state + sizeof *regs + sizeof *sregs);

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("/dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  if (ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){0xfffbc000}) < 0) die("KVM_SET_IDENTITY_MAP_ADDR");
  if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0) die("KVM_SET_TSS_ADDR");
  struct kvm_userspace_memory_region region = {
    .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uint64_t)(uintptr_t)ram,
  };
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < 0) die("KVM_GET_VCPU_MMAP_SIZE");
  struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2");
  if (ioctl(vcpu, KVM_SET_SREGS, sregs) < 0) die("KVM_SET_SREGS");
  if (ioctl(vcpu, KVM_SET_REGS, regs) < 0) die("KVM_SET_REGS");

  unsigned long exits = 0;
  int status = -1;
  double t0 = now_ms();
  while (status < 0) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR) continue;
      die("KVM_RUN");
    }
    exits++;
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      uint8_t *data = (uint8_t *)run + run->io.data_offset;
      if (run->io.direction == KVM_EXIT_IO_OUT) {
        if (run->io.port == 0x3f8) fwrite(data, run->io.size, run->io.count, stdout);
        else if (run->io.port == 0xf4) status = (data[0] << 1) | 1;
      } else {
        memset(data, 0xff, (size_t)run->io.size * run->io.count);
      }
      break;
    }
    case KVM_EXIT_MMIO:
      if (!run->mmio.is_write) memset(run->mmio.data, 0xff, sizeof run->mmio.data);
      break;
    default:
      fprintf(stderr, "kvm_runner: exit reason %u\n", run->exit_reason);
      return 2;
    }
  }
  double ms = now_ms() - t0;
  fflush(stdout);
  fprintf(stderr, "kvm_runner: exits=%lu ms=%.3f status=%d\n", exits, ms, status);
  return 0;
}
