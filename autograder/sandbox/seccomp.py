"""A small seccomp-BPF filter, written by hand (no libseccomp): deny what a student never needs.

Denied with EPERM: creating sockets at all (the worker's channel is inherited), connect/bind/listen/
accept, ptrace and cross-process memory access, mounts, namespaces, kernel modules, kexec, bpf,
perf, keyrings, userfaultfd, io_uring, file handles, clock/host changes; clone with namespace flags.
clone3 answers ENOSYS so the C library falls back to clone, whose flags the filter can inspect.
A foreign architecture (x32 or i386 entry points) kills the process. x86_64 only.
"""

from __future__ import annotations

import ctypes
import errno
import struct

from . import _sys

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000

LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06

SYS_CLONE = 56
SYS_CLONE3 = 435
NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80

DENIED = {
    "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53, "accept4": 288,
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_getfd": 438,
    "process_madvise": 440, "kcmp": 312,
    "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "open_tree": 428, "move_mount": 429,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "unshare": 272, "setns": 308,
    "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
    "bpf": 321, "perf_event_open": 298, "keyctl": 250, "add_key": 248, "request_key": 249,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_by_handle_at": 304, "name_to_handle_at": 303, "reboot": 169, "swapon": 167, "swapoff": 168,
    "acct": 163, "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
    "syslog": 103, "iopl": 172, "ioperm": 173, "quotactl": 179, "fanotify_init": 300,
    "sethostname": 170, "setdomainname": 171, "vhangup": 153, "lookup_dcookie": 212,
}


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program() -> bytes:
    eperm = RET_ERRNO | errno.EPERM
    out = [
        _insn(LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        _insn(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        _insn(RET_K, 0, 0, RET_KILL_PROCESS),
        _insn(LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        _insn(JGE_K, 0, 1, X32_SYSCALL_BIT),
        _insn(RET_K, 0, 0, RET_KILL_PROCESS),
        _insn(JEQ_K, 0, 1, SYS_CLONE3),
        _insn(RET_K, 0, 0, RET_ERRNO | errno.ENOSYS),
    ]
    for nr in sorted(set(DENIED.values())):
        out += [_insn(JEQ_K, 0, 1, nr), _insn(RET_K, 0, 0, eperm)]
    out += [
        _insn(JEQ_K, 0, 3, SYS_CLONE),
        _insn(LD_W_ABS, 0, 0, 16),  # low half of args[0]: the clone flags
        _insn(JSET_K, 0, 1, NAMESPACE_FLAGS),
        _insn(RET_K, 0, 0, eperm),
        _insn(RET_K, 0, 0, RET_ALLOW),
    ]
    return b"".join(out)


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Install the filter on this process (no_new_privs must be set, or the caller be root)."""
    if not _sys.X86_64:
        raise OSError("the seccomp filter is written for x86_64 only")
    code = program()
    buf = ctypes.create_string_buffer(code, len(code))
    prog = _Fprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _sys.prctl(_sys.PR_SET_SECCOMP, 2, ctypes.addressof(prog))  # SECCOMP_MODE_FILTER
