// The KVM userspace ABI for x86-64 (include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h): ioctl numbers,
// capabilities, exit reasons and the byte layout of the structures kemu reads and writes. test/accel-kvm-abi.test.ts
// checks every number here against the host's <linux/kvm.h> with gcc.

export const KVM_API_VERSION = 12;

/** ioctl request numbers. */
export const IOC = {
  GET_API_VERSION: 0xae00,
  CREATE_VM: 0xae01,
  GET_MSR_INDEX_LIST: 0xc004ae02,
  CHECK_EXTENSION: 0xae03,
  GET_VCPU_MMAP_SIZE: 0xae04,
  GET_SUPPORTED_CPUID: 0xc008ae05,
  CREATE_VCPU: 0xae41,
  SET_USER_MEMORY_REGION: 0x4020ae46,
  SET_TSS_ADDR: 0xae47,
  SET_IDENTITY_MAP_ADDR: 0x4008ae48,
  RUN: 0xae80,
  GET_REGS: 0x8090ae81,
  SET_REGS: 0x4090ae82,
  GET_SREGS: 0x8138ae83,
  SET_SREGS: 0x4138ae84,
  INTERRUPT: 0x4004ae86,
  NMI: 0xae9a, // _IO(KVMIO, 0x9a)
  GET_MSRS: 0xc008ae88,
  SET_MSRS: 0x4008ae89,
  SET_SIGNAL_MASK: 0x4004ae8b,
  GET_FPU: 0x81a0ae8c,
  SET_FPU: 0x41a0ae8d,
  SET_CPUID2: 0x4008ae90,
  GET_CPUID2: 0xc008ae91,
  SET_GUEST_DEBUG: 0x4048ae9b,
  GET_VCPU_EVENTS: 0x8040ae9f,
  SET_VCPU_EVENTS: 0x4040aea0,
  GET_DEBUGREGS: 0x8080aea1,
  SET_DEBUGREGS: 0x4080aea2,
  GET_XSAVE: 0x9000aea4,
  SET_XSAVE: 0x5000aea5,
  GET_XCRS: 0x8188aea6,
  SET_XCRS: 0x4188aea7,
} as const;

/** struct kvm_vcpu_events (64 bytes): the fields kemu uses. */
export const EVENTS = {
  SIZE: 64,
  INTERRUPT_SHADOW: 11, // interrupt.shadow
  NMI_PENDING: 13, // nmi.pending
  NMI_MASKED: 14, // nmi.masked
  FLAGS: 20,
  SHADOW_MOV_SS: 1,
  SHADOW_STI: 2,
  VALID_NMI_PENDING: 1,
  VALID_SHADOW: 4,
} as const;

export const CAP = {
  USER_MEMORY: 0x3,
  SET_TSS_ADDR: 0x4,
  EXT_CPUID: 0x7,
  NR_MEMSLOTS: 0xa,
  SET_GUEST_DEBUG: 0x17,
  SET_IDENTITY_MAP_ADDR: 0x25,
  VCPU_EVENTS: 0x29,
  DEBUGREGS: 0x32,
  XSAVE: 0x37,
  XCRS: 0x38,
  IMMEDIATE_EXIT: 0x88,
} as const;

export const EXIT = {
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  NMI: 16,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
} as const;

export const EXIT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(EXIT).map(([k, v]) => [v, k]));

export const EXIT_IO_IN = 0;
export const EXIT_IO_OUT = 1;

/** KVM_INTERNAL_ERROR_EMULATION: the instruction at RIP could not be emulated; nothing of it was done. */
export const INTERNAL_EMULATION = 1;

export const INTERNAL_ERROR_NAMES: Record<number, string> = {
  1: 'emulation failure',
  2: 'exception while delivering an exception',
  3: 'event delivery failed',
  4: 'unexpected exit reason',
};

export const GUESTDBG_ENABLE = 0x1;
export const GUESTDBG_SINGLESTEP = 0x2;
export const GUESTDBG_USE_SW_BP = 0x10000;
export const GUESTDBG_USE_HW_BP = 0x20000;

export const CPUID_FLAG_SIGNIFICANT_INDEX = 0x1;

/** struct kvm_run (the mmap'ed page shared with the kernel). */
export const RUN = {
  REQUEST_INTERRUPT_WINDOW: 0, // u8
  IMMEDIATE_EXIT: 1, // u8
  EXIT_REASON: 8, // u32
  READY_FOR_INTERRUPT_INJECTION: 12, // u8
  IF_FLAG: 13, // u8
  FLAGS: 14, // u16
  CR8: 16, // u64
  APIC_BASE: 24, // u64
  // exit-specific union at 32
  IO_DIRECTION: 32, // u8
  IO_SIZE: 33, // u8
  IO_PORT: 34, // u16
  IO_COUNT: 36, // u32
  IO_DATA_OFFSET: 40, // u64, from the start of kvm_run
  MMIO_PHYS_ADDR: 32, // u64
  MMIO_DATA: 40, // u8[8]
  MMIO_LEN: 48, // u32
  MMIO_IS_WRITE: 52, // u8
  FAIL_ENTRY_REASON: 32, // u64
  FAIL_ENTRY_CPU: 40, // u32
  INTERNAL_SUBERROR: 32, // u32
  INTERNAL_NDATA: 36, // u32
  INTERNAL_DATA: 40, // u64[16]
  DEBUG_EXCEPTION: 32, // u32
  DEBUG_PC: 40, // u64
  DEBUG_DR6: 48, // u64
  DEBUG_DR7: 56, // u64
  EX_EXCEPTION: 32, // u32
  EX_ERROR_CODE: 36, // u32
} as const;

/** struct kvm_regs: 18 u64 — rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags (note: not encoding order). */
export const REGS_SIZE = 144;
/** kvm_regs slot of each GPR in encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15). */
export const REGS_GPR_SLOT = [0, 2, 3, 1, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15] as const;
export const REGS_RIP = 16 * 8;
export const REGS_RFLAGS = 17 * 8;

/** struct kvm_segment (24 bytes). */
export const SEG = {
  SIZE: 24,
  BASE: 0, // u64
  LIMIT: 8, // u32
  SELECTOR: 12, // u16
  TYPE: 14, // u8
  PRESENT: 15,
  DPL: 16,
  DB: 17,
  S: 18,
  L: 19,
  G: 20,
  AVL: 21,
  UNUSABLE: 22,
} as const;

/** struct kvm_sregs (312 bytes): cs ds es fs gs ss tr ldt, gdt idt (kvm_dtable: u64 base, u16 limit), control regs. */
export const SREGS = {
  SIZE: 312,
  CS: 0,
  DS: 24,
  ES: 48,
  FS: 72,
  GS: 96,
  SS: 120,
  TR: 144,
  LDT: 168,
  GDT: 192,
  IDT: 208,
  CR0: 224,
  CR2: 232,
  CR3: 240,
  CR4: 248,
  CR8: 256,
  EFER: 264,
  APIC_BASE: 272,
  /** u64[4]: one bit for an external interrupt KVM has accepted but not yet delivered. */
  INTERRUPT_BITMAP: 280,
} as const;
export const DTABLE_LIMIT = 8; // u16 after the u64 base

/** struct kvm_fpu (416 bytes). */
export const FPU = {
  SIZE: 416,
  FPR: 0, // 8 x 16 bytes (80-bit values, padded)
  FCW: 128, // u16
  FSW: 130, // u16
  FTWX: 132, // u8: abridged tag word (FXSAVE form)
  LAST_OPCODE: 134, // u16
  LAST_IP: 136, // u64
  LAST_DP: 144, // u64
  XMM: 152, // 16 x 16 bytes
  MXCSR: 408, // u32
} as const;

/** struct kvm_msrs: u32 nmsrs, u32 pad, then kvm_msr_entry { u32 index; u32 reserved; u64 data; }[]. */
export const MSRS_HEADER = 8;
export const MSR_ENTRY_SIZE = 16;

/** struct kvm_xcrs: u32 nr_xcrs, u32 flags, kvm_xcr { u32 xcr; u32 reserved; u64 value; }[16], u64 padding[16]. */
export const XCRS_SIZE = 392;
export const XCRS_ENTRIES = 8;
export const XCR_ENTRY_SIZE = 16;
export const XCRS_MAX = 16;

/** struct kvm_debugregs: u64 db[4], dr6, dr7, flags, reserved[9]. */
export const DEBUGREGS = { SIZE: 128, DB: 0, DR6: 32, DR7: 40, FLAGS: 48 } as const;

/** struct kvm_cpuid2: u32 nent, u32 padding, kvm_cpuid_entry2[] (40 bytes: function index flags eax ebx ecx edx pad[3]). */
export const CPUID2_HEADER = 8;
export const CPUID_ENTRY_SIZE = 40;
export const CPUID_ENTRY = { FUNCTION: 0, INDEX: 4, FLAGS: 8, EAX: 12, EBX: 16, ECX: 20, EDX: 24 } as const;

/** struct kvm_userspace_memory_region: u32 slot, u32 flags, u64 guest_phys_addr, u64 memory_size, u64 userspace_addr. */
export const MEMREGION = { SIZE: 32, SLOT: 0, FLAGS: 4, GPA: 8, SIZE_FIELD: 16, UADDR: 24 } as const;

/** struct kvm_guest_debug: u32 control, u32 pad, kvm_guest_debug_arch { u64 debugreg[8]; }. */
export const GUEST_DEBUG = { SIZE: 72, CONTROL: 0, DEBUGREG: 8 } as const;

/** struct kvm_signal_mask: u32 len, u8 sigset[len]; the kernel's sigset is 8 bytes on x86-64. */
export const KERNEL_SIGSET_SIZE = 8;

/** MSR indices. */
export const MSR = {
  APIC_BASE: 0x1b,
  SYSENTER_CS: 0x174,
  SYSENTER_ESP: 0x175,
  SYSENTER_EIP: 0x176,
  EFER: 0xc0000080,
  STAR: 0xc0000081,
  LSTAR: 0xc0000082,
  CSTAR: 0xc0000083,
  SFMASK: 0xc0000084,
  FS_BASE: 0xc0000100,
  GS_BASE: 0xc0000101,
  KERNEL_GS_BASE: 0xc0000102,
  TSC_AUX: 0xc0000103,
} as const;
