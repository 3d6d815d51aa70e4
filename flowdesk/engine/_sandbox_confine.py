"""Kernel confinement for one inline_code child (Linux): Landlock, seccomp, no capabilities.

Standard library only: the sandbox worker (``python -I``) loads this file by path. The worker
calls ``Confinement.prepare()`` once (probing the kernel and building the seccomp programs),
then each forked child calls ``apply(workdir, allow_network)`` before it runs user code.
After ``apply`` the child, whatever uid it runs as (root included):

- reads only the Python installation (stdlib, site-packages), the shared-library folders
  (``/usr/lib``, ``/lib``...), the time-zone database and its own working folder; writes only
  in that folder (Landlock filesystem rules, ABI >= 1; renames across folders need ABI >= 2);
- cannot connect or bind TCP (Landlock ABI >= 4) and cannot create any socket (seccomp)
  unless ``allow_network``, which then allows IPv4/IPv6 sockets and name resolution files;
- cannot start a process (fork, vfork, clone without CLONE_THREAD, execve) nor use a list of
  system-changing calls (ptrace, mount, bpf, io_uring, kexec, reboot...): seccomp, which holds
  for root where RLIMIT_NPROC does not; threads still work;
- cannot signal or reach abstract unix sockets of processes outside it (Landlock ABI >= 6);
- holds no Linux capabilities.

What the kernel does not offer is listed in ``not_enforced`` (never silently assumed). The
seccomp program covers x86_64 only; on other machines it is reported as not enforced.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys
import sysconfig
from typing import Any

__all__ = ["Confinement", "ConfinementError"]

_SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

# Landlock filesystem rights, by ABI version
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ABI1 = (1 << 13) - 1          # execute .. make_sym
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2

_READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
_SYSTEM_READ = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib",
                "/etc/ld.so.cache", "/usr/share/zoneinfo")
_NETWORK_READ = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf",
                 "/etc/host.conf", "/etc/services", "/etc/protocols", "/etc/ssl",
                 "/etc/ca-certificates", "/usr/share/ca-certificates", "/etc/pki")
_DEVICES = (("/dev/null", _FS_READ_FILE | _FS_WRITE_FILE), ("/dev/zero", _FS_READ_FILE),
            ("/dev/urandom", _FS_READ_FILE), ("/dev/random", _FS_READ_FILE))

# seccomp (x86_64): calls refused with EPERM
_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
_DENIED_X86_64 = (
    57, 58, 59, 322,              # fork vfork execve execveat
    101, 310, 311, 438, 312,      # ptrace process_vm_readv/writev pidfd_getfd kcmp
    165, 166, 155, 161, 428, 429, 430, 431, 432, 433, 442,  # mount & co, chroot
    167, 168, 169, 170, 171, 172, 173,  # swapon swapoff reboot sethost/domainname iopl ioperm
    175, 176, 313, 246, 320,      # (f)init/delete_module kexec_load kexec_file_load
    164, 227, 305, 159, 163, 179,  # settimeofday clock_settime clock_adjtime adjtimex acct quotactl
    272, 308, 321, 298, 323,      # unshare setns bpf perf_event_open userfaultfd
    425, 426, 427,                # io_uring_*
    248, 249, 250,                # add_key request_key keyctl
    303, 304, 300, 133, 259, 103, 134, 153, 212,
    # name_to/open_by_handle_at fanotify_init mknod mknodat syslog uselib vhangup lookup_dcookie
)
_SYS_CLONE, _SYS_CLONE3, _SYS_SOCKET, _SYS_CAPSET = 56, 435, 41, 126
_CLONE_THREAD = 0x10000
_RET_ALLOW = 0x7FFF0000
_RET_EPERM = 0x00050000 | errno.EPERM
_RET_ENOSYS = 0x00050000 | errno.ENOSYS  # clone3: glibc then falls back to clone


class ConfinementError(Exception):
    pass


def _python_paths() -> list[str]:
    """The folders of the Python installation the child may read: stdlib and site-packages
    of the venv and its base, and sys.path entries inside them (never a project folder an
    editable install put on sys.path)."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found: list[str] = []
    for scheme_vars in ({}, {"base": sys.base_prefix, "platbase": sys.base_prefix}):
        paths = sysconfig.get_paths(vars=scheme_vars) if scheme_vars else sysconfig.get_paths()
        found += [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and any(real == r or real.startswith(r + os.sep) for r in roots) \
                and not real.endswith(".zip"):
            found.append(real)
    bundle = getattr(sys, "_MEIPASS", None)  # a PyInstaller bundle's own folder
    if bundle:
        found.append(bundle)
    unique: list[str] = []
    for path in found:
        real = os.path.realpath(path)
        if os.path.exists(real) and real not in unique:
            unique.append(real)
    return unique


def _assemble(program: list[tuple[Any, ...]]) -> bytes:
    """Turn (op, jt-label, jf-label, k) / ("label", name) items into sock_filter bytes."""
    labels: dict[str, int] = {}
    code: list[tuple[int, Any, Any, int]] = []
    for item in program:
        if item[0] == "label":
            labels[item[1]] = len(code)
        else:
            code.append(item)
    def offset(index: int, target: Any) -> int:
        if isinstance(target, int):
            return target
        distance = labels[target] - index - 1
        if not 0 <= distance <= 255:
            raise ConfinementError("seccomp program jump out of range")
        return distance

    return b"".join(struct.pack("=HBBI", op, offset(i, jt), offset(i, jf), k)
                    for i, (op, jt, jf, k) in enumerate(code))


_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06


def _seccomp_program(allow_network: bool) -> bytes:
    p: list[tuple[Any, ...]] = [
        (_LD_ABS, 0, 0, 4),                       # arch
        (_JEQ, 0, "deny", _X86_64),               # any other ABI (int 0x80: i386) is refused
        (_LD_ABS, 0, 0, 0),                       # syscall number
        (_JGE, "deny", 0, _X32_BIT),              # the x32 ABI
        (_JEQ, "clone", 0, _SYS_CLONE),
        (_JEQ, "enosys", 0, _SYS_CLONE3),
        (_JEQ, "socket", 0, _SYS_SOCKET),
    ]
    p += [(_JEQ, "deny", 0, nr) for nr in _DENIED_X86_64]
    p += [(_RET, 0, 0, _RET_ALLOW),
          ("label", "clone"), (_LD_ABS, 0, 0, 16),  # args[0] low word: the clone flags
          (_JSET, "allow", "deny", _CLONE_THREAD),
          ("label", "socket")]
    if allow_network:
        p += [(_LD_ABS, 0, 0, 16),
              (_JEQ, "allow", 0, 2),              # AF_INET
              (_JEQ, "allow", "deny", 10)]         # AF_INET6
    p += [("label", "deny"), (_RET, 0, 0, _RET_EPERM),
          ("label", "enosys"), (_RET, 0, 0, _RET_ENOSYS),
          ("label", "allow"), (_RET, 0, 0, _RET_ALLOW)]
    return _assemble(p)


class Confinement:
    """Probed once in the worker; ``apply`` runs in each child."""

    def __init__(self) -> None:
        self.landlock_abi = 0
        self.seccomp = False
        self.not_enforced: list[str] = []
        self._libc: Any = None
        self._programs: dict[bool, bytes] = {}
        self._read_paths: list[str] = []
        self._network_paths: list[str] = []
        self._fs = 0
        self._ruleset_attr: dict[bool, bytes] = {}
        self._rules: dict[bool, list[bytes]] = {}

    def prepare(self) -> None:
        if not sys.platform.startswith("linux"):
            self.not_enforced = ["filesystem", "network", "processes"]
            return
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long
        abi = self._libc.syscall(ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), None,
                                 ctypes.c_size_t(0), ctypes.c_uint32(1))
        self.landlock_abi = max(0, int(abi))
        if self.landlock_abi < 1:
            self.not_enforced.append("filesystem (the kernel has no Landlock)")
        elif self.landlock_abi < 4:
            self.not_enforced.append(f"TCP rules (Landlock ABI {self.landlock_abi} < 4; "
                                     f"sockets are still refused by seccomp)")
        if 0 < self.landlock_abi < 6:
            self.not_enforced.append("signal scoping (Landlock ABI < 6)")
        self.seccomp = platform.machine() in ("x86_64", "AMD64") and os.path.exists(
            "/proc/self/status")
        if self.seccomp:
            self._programs = {net: _seccomp_program(net) for net in (False, True)}
        else:
            self.not_enforced.append(f"processes, non-TCP sockets and capabilities (no "
                                     f"seccomp program for {platform.machine()})")
        paths = _python_paths() + list(_SYSTEM_READ)
        self._read_paths = [p for p in dict.fromkeys(paths) if os.path.exists(p)]
        self._network_paths = [p for p in _NETWORK_READ if os.path.exists(p)]
        if self.landlock_abi >= 1:
            self._prepare_landlock()

    # -- in the child --------------------------------------------------------------------
    def apply(self, workdir: str, allow_network: bool) -> None:
        if self._libc is None:
            return
        libc = self._libc
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise ConfinementError(f"prctl(NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
        if self.landlock_abi >= 1:
            self._landlock(workdir, allow_network)
        self._drop_capabilities()
        if self.seccomp:
            program = self._programs[allow_network]
            buffer = ctypes.create_string_buffer(program)
            fprog = struct.pack("=HxxxxxxQ", len(program) // 8, ctypes.addressof(buffer))
            fprog_buf = ctypes.create_string_buffer(fprog)
            if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, fprog_buf, 0, 0) != 0:
                raise ConfinementError(f"seccomp: {os.strerror(ctypes.get_errno())}")

    def _landlock(self, workdir: str, allow_network: bool) -> None:
        libc, fs = self._libc, self._fs
        attr = self._ruleset_attr[allow_network]
        ruleset = libc.syscall(ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), attr,
                               ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
        if ruleset < 0:
            raise ConfinementError(f"landlock: {os.strerror(ctypes.get_errno())}")
        try:
            workdir_fd = os.open(workdir, os.O_PATH | os.O_CLOEXEC)
            rules = self._rules[allow_network] + [struct.pack("=Qi", fs, workdir_fd)]
            for rule in rules:
                if libc.syscall(ctypes.c_long(_SYS_LANDLOCK_ADD_RULE), ruleset,
                                ctypes.c_int(1), rule, ctypes.c_uint32(0)) != 0:
                    raise ConfinementError(f"landlock rule: {os.strerror(ctypes.get_errno())}")
            os.close(workdir_fd)
            if libc.syscall(ctypes.c_long(_SYS_LANDLOCK_RESTRICT_SELF), ruleset,
                            ctypes.c_uint32(0)) != 0:
                raise ConfinementError(f"landlock: {os.strerror(ctypes.get_errno())}")
        finally:
            os.close(ruleset)

    def _prepare_landlock(self) -> None:
        """Once per worker: the rights this ABI knows, and a rule (with an O_PATH descriptor
        the children inherit) for every allowed path but the per-step folder."""
        abi = self.landlock_abi
        self._fs = _FS_ABI1 | (_FS_REFER if abi >= 2 else 0) \
            | (_FS_TRUNCATE if abi >= 3 else 0) | (_FS_IOCTL_DEV if abi >= 5 else 0)
        scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0
        size = 8 if abi < 4 else 16 if abi < 6 else 24
        tcp = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
        self._ruleset_attr = {net: struct.pack("=QQQ", self._fs, 0 if net else tcp,
                                               scoped)[:size] for net in (False, True)}
        base = [self._rule(p, _READ) for p in self._read_paths]
        base += [self._rule(p, a) for p, a in _DEVICES]
        network = [self._rule(p, _READ) for p in self._network_paths]
        self._rules = {False: [r for r in base if r],
                       True: [r for r in base + network if r]}

    def _rule(self, path: str, access: int) -> bytes | None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return None
        if not os.path.isdir(path):
            access &= _FILE_ONLY
        return struct.pack("=Qi", access & self._fs, fd)

    def _drop_capabilities(self) -> None:
        """Root in the child keeps no capability (no CAP_DAC_OVERRIDE, CAP_SYS_ADMIN...)."""
        if platform.machine() not in ("x86_64", "AMD64"):
            return
        header = ctypes.create_string_buffer(struct.pack("=Ii", 0x20080522, 0))
        data = ctypes.create_string_buffer(24)  # two zeroed {effective, permitted, inheritable}
        if self._libc.syscall(ctypes.c_long(_SYS_CAPSET), header, data) != 0:
            raise ConfinementError(f"capset: {os.strerror(ctypes.get_errno())}")
