"""What the kernel forbids a job's process: a seccomp filter, no new privileges, rlimits.

A job runs in a child forked from the worker (worker.py), which itself runs inside
bubblewrap's namespaces when they can be built (isolation.py). The child applies this
before it reads the job, so nothing of the user's text runs unconfined:

- `no_new_privs`, then a seccomp filter that answers EPERM to what a program never needs:
  running another program (`execve`), new processes (`fork`; `clone` without
  CLONE_THREAD), sockets, `ptrace`, mounts, namespaces, `bpf`, keyrings, kernel modules,
  raising its own limits, `io_uring`;
- rlimits: address space (its footprint plus a student's share), CPU seconds, no file
  written (RLIMIT_FSIZE 0), no new process, few open files, no core dump.

The worker that forks the children guards itself first (`shield_the_zygote`): a job
reaches `os` through `torch.os`, and the zygote outlives it, forking every later job.

The filter is a hand-built classic BPF program (about 80 instructions): libseccomp's
Python bindings come from Debian for the system Python only, and the PyPI ctypes
binding has not been released since 2021. Syscall numbers are x86_64's; elsewhere the
filter is not installed and `available()` says so.
"""
from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
CLONE_THREAD = 0x00010000
# seccomp_data: nr (u32) at 0, arch (u32) at 4, args[i] (u64) at 16 + 8*i (little-endian).
NR, ARCH = 0, 4


def _arg(index: int, high: bool = False) -> int:
    return 16 + 8 * index + (4 if high else 0)


# x86_64 numbers of what a job is refused, by why.
DENIED_X86_64 = {
    "run a program": (59, 322),                          # execve, execveat
    "start a process": (57, 58),                         # fork, vfork
    "use the network": (41, 53, 42, 49, 50, 43, 288, 44, 46),  # socket … accept4, sendto, sendmsg
    "watch other processes": (101, 310, 311, 298),       # ptrace, process_vm_*, perf_event_open
    "change the file system": (165, 166, 155, 161),      # mount, umount2, pivot_root, chroot
    "enter or make namespaces": (272, 308),              # unshare, setns
    "load kernel code": (321, 246, 320, 175, 313, 176),  # bpf, kexec_*, modules
    "use keyrings": (248, 249, 250),                     # add_key, request_key, keyctl
    "raise its limits": (160,),                          # setrlimit (prlimit64: below)
    "other": (135, 323, 304, 169, 167, 168, 425, 426, 427, 134, 156, 139),
    # personality, userfaultfd, open_by_handle_at, reboot, swapon/off, io_uring_*, uselib,
    # _sysctl, sysfs
}
CLONE, CLONE3, PRLIMIT64 = 56, 435, 302


def _instruction(code: int, jt: int, jf: int, k: int) -> tuple:
    return (code, jt, jf, k & 0xFFFFFFFF)


def _load(offset: int) -> tuple:
    return _instruction(0x20, 0, 0, offset)  # BPF_LD | BPF_W | BPF_ABS


def _jeq(k: int, jt: int, jf: int) -> tuple:
    return _instruction(0x15, jt, jf, k)  # BPF_JMP | BPF_JEQ | BPF_K


def _jset(k: int, jt: int, jf: int) -> tuple:
    return _instruction(0x45, jt, jf, k)  # BPF_JMP | BPF_JSET | BPF_K


def _jge(k: int, jt: int, jf: int) -> tuple:
    return _instruction(0x35, jt, jf, k)  # BPF_JMP | BPF_JGE | BPF_K


def _ret(k: int) -> tuple:
    return _instruction(0x06, 0, 0, k)  # BPF_RET | BPF_K


def filter_program() -> list[tuple]:
    """The BPF instructions, for x86_64."""
    deny = _ret(RET_ERRNO | EPERM)
    program = [_load(ARCH), _jeq(AUDIT_ARCH_X86_64, 1, 0), _ret(RET_KILL_PROCESS), _load(NR),
               _jge(0x40000000, 0, 1), deny]  # the x32 ABI's numbers: none needed
    for numbers in DENIED_X86_64.values():
        for number in numbers:
            program += [_jeq(number, 0, 1), deny]
    # clone3's flags sit in memory a filter cannot read: ENOSYS makes glibc use clone.
    program += [_jeq(CLONE3, 0, 1), _ret(RET_ERRNO | ENOSYS)]
    # prlimit64 may read limits (new_limit NULL), never set them. Loads clobber the number,
    # so each check below ends in a return either way.
    program += [_jeq(PRLIMIT64, 0, 6), _load(_arg(2)), _jeq(0, 0, 2), _load(_arg(2, True)),
                _jeq(0, 1, 0), deny, _ret(RET_ALLOW)]
    # clone: threads only (torch may start one), never a new process.
    program += [_jeq(CLONE, 0, 3), _load(_arg(0)), _jset(CLONE_THREAD, 1, 0), deny,
                _ret(RET_ALLOW)]
    return program


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def available() -> str | None:
    """None when the filter can be installed here, else why not (a sentence)."""
    if platform.system() != "Linux":
        return "seccomp needs Linux"
    if platform.machine() != "x86_64":
        return f"chainrule's seccomp filter knows x86_64's system calls, not {platform.machine()}'s"
    return None


def install_filter() -> None:
    """no_new_privs, then the filter; raises OSError when the kernel refuses."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    instructions = filter_program()
    array = (_SockFilter * len(instructions))(*[_SockFilter(*i) for i in instructions])
    program = _SockFprog(len(instructions), array)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def address_space_limit(share_bytes: int) -> int:
    """This process's footprint plus a student's share.

    An absolute cap would measure the wrong thing: a CUDA build or some BLAS libraries
    reserve gigabytes of address space at start-up without using memory, and such a worker
    would have nothing left for the student. CHAINRULE_WORKER_HEADROOM_MB sets a smaller
    share (tests).
    """
    headroom = os.environ.get("CHAINRULE_WORKER_HEADROOM_MB")
    share = int(headroom) * 2**20 if headroom else share_bytes
    with open("/proc/self/status") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    return size_kb * 1024 + share


def _lower(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass  # a limit the platform or our privileges do not allow lowering


def apply_limits(limits, open_files: int = 256) -> None:
    """The rlimits of one job (CPU counts from zero in a fresh child)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write then fails with EFBIG instead
    _lower(resource.RLIMIT_FSIZE, 0)
    _lower(resource.RLIMIT_CORE, 0)
    _lower(resource.RLIMIT_NPROC, 0)
    _lower(resource.RLIMIT_NOFILE, open_files)
    _lower(resource.RLIMIT_CPU, int(limits.cpu_seconds))
    _lower(resource.RLIMIT_AS, address_space_limit(limits.address_space_bytes))


def shield_the_zygote() -> None:
    """Close what a job's child could reach of the worker that forked it (before any fork).

    - Not dumpable: a process of the same user can no longer open the zygote's
      /proc/<pid>/mem (a job once could, read-write: write into the zygote, and so into
      every later job; read the frames of other students' jobs it relayed), nor its fd or
      environ. Children inherit it, so no job can reach another one's memory either.
    - No handler for SIGINT: inside bubblewrap the zygote is its namespace's process 1,
      and the kernel drops a signal sent to it from inside unless it handles that signal
      (a job's `torch.os.kill(1, 2)` raised KeyboardInterrupt in the zygote and killed it).
      The deadline's handlers are installed in each child, never here.
    """
    if platform.system() != "Linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def confine(limits) -> None:
    """Everything above, in a job's child, before it reads the job."""
    apply_limits(limits)
    if available() is None:
        install_filter()
