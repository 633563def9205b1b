#!/usr/bin/env python3
"""Linux guest boot tests: boot the images of build-images.sh, drive the
busybox shell on the serial console (COM1 on the emulator's stdio, through
pipes) and check what the guest really prints.

Usage:
  guest_test.py [options] images OUT          build the images (CTest fixture)
  guest_test.py [options] TEST                run one test; TEST is one of
      kernel_shell kernel_noapic kernel_apic kernel_reboot disk_boot disk_ro cdrom_boot

Options:
  --emulator softvisor|qemu   which emulator (default softvisor). 'qemu' runs
                              qemu-system-i386 (TCG) to prove the harness
                              itself; it is a developer option, not in CTest.
  --softvisor PATH            the softvisor binary (default build/softvisor)
  --images DIR                the built images (default build/guests)
  --workdir DIR               scratch files and logs (default a fresh
                              directory under DIR/runs)
Environment (host seconds unless stated):
  SOFTVISOR_GUEST_BOOT_TIMEOUT  boot to the shell prompt (default 900)
  SOFTVISOR_GUEST_CMD_TIMEOUT   one shell command or power-off (default 300)
  SOFTVISOR_GUEST_VTIMEOUT      softvisor --timeout, virtual s (default 1000000)
Exit status: 0 pass, 1 fail, 77 skipped (a "SKIPPED: reason" line says why).
"""
import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
BOOT_TIMEOUT = float(os.environ.get("SOFTVISOR_GUEST_BOOT_TIMEOUT", "900"))
CMD_TIMEOUT = float(os.environ.get("SOFTVISOR_GUEST_CMD_TIMEOUT", "300"))
VTIMEOUT = os.environ.get("SOFTVISOR_GUEST_VTIMEOUT", "1000000")
CHUNK = 4            # characters typed before waiting for their echo
PROMPT = b"guest# "
BAD_DMESG = ("BUG:", "Oops", "WARNING:", "Call Trace")
EXIT_MEANING = {0: ": powered off", 1: ": host error", 2: ": usage error",
                3: ": virtual --timeout reached", 4: ": triple fault"}


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Guest:
    """One emulator process; its stdout (the serial console) is read by a
    thread into a buffer that the test searches with regular expressions."""

    def __init__(self, argv, workdir, name):
        self.name = name
        self.serial_path = os.path.join(workdir, f"{name}.serial.log")
        self.stderr_path = os.path.join(workdir, f"{name}.stderr.log")
        self.buf = bytearray()
        self.pos = 0                    # searches start here
        self.cond = threading.Condition()
        self.eof = False
        self.t0 = time.monotonic()
        log(f"{name}: starting: {' '.join(argv)}")
        self.serial_log = open(self.serial_path, "wb")
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr_file, bufsize=0)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.eof = True
                    self.cond.notify_all()
                    return
                self.buf += data
                self.serial_log.write(data)
                self.serial_log.flush()
                self.cond.notify_all()

    def elapsed(self):
        return time.monotonic() - self.t0

    def wait_for(self, pattern, timeout, what):
        """Waits until pattern (bytes regex) matches after self.pos; returns
        the match (positions are in self.buf)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    return m
                if self.eof:
                    st = self.proc.wait()
                    raise Failure(f"{what}: the emulator closed the serial console "
                                  f"(exit status {st}{EXIT_MEANING.get(st, '')}) before it came")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"{what}: not seen within {timeout:.0f} s host time")
                self.cond.wait(min(left, 1.0))

    def send(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise Failure(f"writing to the emulator's stdin: {e}")

    def type_text(self, text):
        """Types text a few characters at a time, each time waiting for the
        shell's echo, so the UART's 16-byte receive FIFO never overflows and
        a lost character is noticed where it happens."""
        data = text.encode()
        for i in range(0, len(data), CHUNK):
            chunk = data[i:i + CHUNK]
            self.send(chunk)
            m = self.wait_for(re.escape(chunk), CMD_TIMEOUT, f"echo of {chunk!r} in {text!r}")
            self.pos = m.end()

    def run(self, cmd, timeout=None, check=True):
        """Runs one shell command; returns (output, status) with the output
        without carriage returns. The status comes from a marker whose typed
        form ($?) cannot match its printed form (digits)."""
        self.type_text(f"{cmd}; echo \"@@RC=$?@@\"")
        self.send(b"\r")
        m = self.wait_for(rb"@@RC=(\d+)@@", timeout or CMD_TIMEOUT, f"end of command {cmd!r}")
        out = bytes(self.buf[self.pos:m.start()])
        # Drop the rest of the echoed line (up to its newline).
        nl = out.find(b"\n")
        out = out[nl + 1:] if nl >= 0 else b""
        self.pos = m.end()
        self.wait_for(re.escape(PROMPT), timeout or CMD_TIMEOUT, f"prompt after {cmd!r}")
        status = int(m.group(1))
        text = out.decode("utf-8", "replace").replace("\r", "")
        if check and status != 0:
            raise Failure(f"command {cmd!r} exited with status {status}; output:\n{text}")
        return text, status

    def boot(self):
        """Waits for init and the first shell prompt, then makes the console
        quiet and wide (so ash never wraps the echo of a long command)."""
        m = self.wait_for(rb"softvisor-guest: init ready \(([^)]*)\)", BOOT_TIMEOUT,
                          "'softvisor-guest: init ready'")
        self.pos = m.end()
        self.wait_for(re.escape(PROMPT), CMD_TIMEOUT, "first shell prompt")
        log(f"{self.name}: shell prompt after {self.elapsed():.1f} s host time "
            f"(kernel {m.group(1).decode()})")
        self.pos = len(self.buf)
        self.run("stty cols 1000")
        self.run("dmesg -n 1")

    def poweroff(self):
        """poweroff -f: the emulator must exit with status 0 (ACPI S5)."""
        self.type_text("poweroff -f")
        self.send(b"\r")
        try:
            status = self.proc.wait(CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure(f"the emulator did not exit within {CMD_TIMEOUT:.0f} s after poweroff -f")
        self.reader.join(10)
        if status != 0:
            raise Failure(f"the emulator exited with status {status}{EXIT_MEANING.get(status, '')} "
                          f"after poweroff -f (expected 0)")
        log(f"{self.name}: powered off, exit status 0, {self.elapsed():.1f} s host time in all")
        self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(10)
        for f in (self.serial_log, self.stderr_file, self.proc.stdin):
            try:
                f.close()
            except OSError:
                pass

    def report_failure(self):
        """Kills the emulator and prints the serial tail and its stderr."""
        running = self.proc.poll() is None
        self.close()
        with self.cond:
            tail = bytes(self.buf[-4000:]).decode("utf-8", "replace").replace("\r", "")
        print(f"--- {self.name}: emulator {'killed' if running else 'exited'} "
              f"(status {self.proc.returncode}) after {self.elapsed():.1f} s host time")
        print(f"--- {self.name}: serial tail ({self.serial_path}):")
        print("\n".join(tail.splitlines()[-60:]))
        with open(self.stderr_path, "rb") as f:
            err = f.read()[-3000:].decode("utf-8", "replace")
        print(f"--- {self.name}: emulator stderr ({self.stderr_path}):")
        print(err, end="" if err.endswith("\n") else "\n")
        print("---", flush=True)


class Runner:
    def __init__(self, args):
        self.args = args
        self.images = os.path.abspath(args.images)
        self.workdir = args.workdir
        self.guests = []

    def image(self, name):
        path = os.path.join(self.images, name)
        if not os.path.isfile(path):
            reason_file = os.path.join(self.images, ".skipped")
            if os.path.isfile(reason_file):
                with open(reason_file) as f:
                    raise Skip(f"guest images were not built: {f.read().strip()}")
            raise Failure(f"{path} is missing (run tests/guests/build-images.sh {self.images})")
        return path

    def start(self, name, kernel=False, append="console=ttyS0", apic=False,
              disk=None, disk_ro=False, cdrom=None, jit=True):
        if self.args.emulator == "qemu":
            argv = ["qemu-system-i386", "-accel", "tcg", "-M", "pc", "-m", "128",
                    "-display", "none", "-monitor", "none", "-serial", "stdio",
                    "-no-reboot"]
            if kernel:
                argv += ["-kernel", self.image("vmlinuz"), "-initrd", self.image("initrd.gz"),
                         "-append", append]
            if disk:
                # QEMU's IDE disks refuse readonly=on: snapshot=on keeps the file as it is.
                argv += ["-drive", f"file={disk},format=raw,if=ide,index=0"
                         + (",snapshot=on" if disk_ro else "")]
            if cdrom:
                argv += ["-cdrom", cdrom, "-boot", "d"]
        else:
            argv = [self.args.softvisor, "--headless", "--serial", "stdio",
                    "--timeout", VTIMEOUT, "--stats"]
            # kernel_shell runs the machine without APIC hardware (8259 only);
            # the APIC tests with it (the default).
            if kernel:
                argv.append("--apic" if apic else "--no-apic")
            if not jit:
                argv.append("--no-jit")   # the interpreter, the reference on every host
            if kernel:
                argv += ["--kernel", self.image("vmlinuz"), "--initrd", self.image("initrd.gz"),
                         "--append", append]
            if disk:
                argv += ["--disk", disk + (",ro" if disk_ro else "")]
            if cdrom:
                argv += ["--cdrom", cdrom, "--boot", "cdrom"]
        g = Guest(argv, self.workdir, name)
        self.guests.append(g)
        g.boot()
        return g

    # ---- checks shared by the tests ----

    def check_dmesg(self, g):
        out, _ = g.run("dmesg", timeout=CMD_TIMEOUT)
        path = os.path.join(self.workdir, f"{g.name}.dmesg.txt")
        with open(path, "w") as f:
            f.write(out)
        if "Linux version" not in out:
            raise Failure(f"dmesg output does not look like a kernel log (saved in {path})")
        bad = [line for line in out.splitlines() if any(b in line for b in BAD_DMESG)]
        if bad:
            raise Failure(f"dmesg reports kernel problems (full log in {path}):\n" + "\n".join(bad[:20]))
        log(f"{g.name}: dmesg clean ({len(out.splitlines())} lines, {path})")
        return out

    def check_shell(self, g):
        out, _ = g.run("uname -a")
        if "Linux" not in out or "i686" not in out:
            raise Failure(f"uname -a should name Linux and i686, printed: {out.strip()!r}")
        log(f"{g.name}: uname -a: {out.strip()}")
        out, _ = g.run("cat /proc/cpuinfo")
        if not re.search(r"^processor\s*: 0$", out, re.M):
            raise Failure(f"/proc/cpuinfo has no 'processor : 0' line:\n{out}")
        if not re.search(r"^fpu\s*: yes$", out, re.M):
            raise Failure(f"/proc/cpuinfo does not say 'fpu : yes':\n{out}")
        model = re.search(r"^model name\s*: (.*)$", out, re.M)
        log(f"{g.name}: /proc/cpuinfo: processor 0, fpu yes, model name "
            f"{model.group(1) if model else '?'}")
        self.check_dmesg(g)
        self.check_awk(g)

    def check_awk(self, g):
        prog = 'BEGIN{printf "%.15g\\n", atan2(1,1)*4; printf "%.10e\\n", exp(50)/3}'
        want = subprocess.run(["awk", prog], capture_output=True, text=True, check=True).stdout
        # busybox-static's awk has no maths: the initrd has glibc's mawk (as the host has).
        out, _ = g.run(f"mawk '{prog}'")
        if out != want:
            raise Failure(f"guest awk printed {out!r}, the host's awk {want!r}")
        log(f"{g.name}: awk floating point matches the host: {out.split()}")

    def copy_disk(self, name):
        dst = os.path.join(self.workdir, name)
        shutil.copyfile(self.image("disk.img"), dst)
        return dst

    # ---- the tests ----

    def test_kernel_shell(self):
        g = self.start("kernel_shell", kernel=True)
        self.check_shell(g)
        g.poweroff()

    def test_kernel_noapic(self):
        g = self.start("kernel_noapic", kernel=True, apic=True,
                       append="console=ttyS0 noapic nolapic", jit=False)
        self.check_shell(g)
        g.poweroff()

    def test_kernel_apic(self):
        g = self.start("kernel_apic", kernel=True, apic=True)
        out, _ = g.run("cat /proc/interrupts")
        if "IO-APIC" not in out:
            raise Failure(f"/proc/interrupts does not mention IO-APIC (APIC not in use):\n{out}")
        log(f"{g.name}: /proc/interrupts mentions IO-APIC")
        self.check_shell(g)
        g.poweroff()

    def test_kernel_reboot(self):
        # reboot -f resets the machine (ACPI reset register / 8042); with
        # --kernel, Softvisor loads the kernel again and it boots again.
        g = self.start("kernel_reboot", kernel=True, apic=True)
        g.type_text("reboot -f")
        g.send(b"\r")
        log(f"{g.name}: reboot -f typed, waiting for the second boot")
        g.boot()
        out, _ = g.run("cat /proc/uptime")
        log(f"{g.name}: second boot reached the shell, uptime {out.split()[0] if out.split() else '?'}")
        g.poweroff()

    def test_disk_boot(self):
        disk = self.copy_disk("disk_boot.img")
        token = f"softvisor-token-{uuid.uuid4().hex}"
        g = self.start("disk_boot.1", disk=disk)
        g.run("mount -t vfat /dev/sda1 /mnt")
        g.run(f"echo {token} > /mnt/token.txt")
        g.run("sync")
        g.run("umount /mnt")
        self.check_dmesg(g)
        g.poweroff()
        # The host reads the file too (mtools is needed to build the images).
        if shutil.which("mtype"):
            r = subprocess.run(["mtype", "-i", f"{disk}@@1M", "::token.txt"],
                               capture_output=True, text=True)
            if r.returncode != 0 or r.stdout.strip() != token:
                raise Failure(f"mtype on the host reads token.txt as {r.stdout!r} "
                              f"(status {r.returncode}, {r.stderr.strip()!r}), expected {token!r}")
            log("disk_boot: the host's mtype reads the token from the image")
        g = self.start("disk_boot.2", disk=disk)
        g.run("mount -t vfat /dev/sda1 /mnt")
        out, _ = g.run("cat /mnt/token.txt")
        if out.strip() != token:
            raise Failure(f"after a reboot /mnt/token.txt holds {out!r}, expected {token!r}")
        out, _ = g.run("ls /mnt")
        if "vmlinuz" not in out or "initrd.gz" not in out:
            raise Failure(f"the FAT partition lost files; ls /mnt:\n{out}")
        g.run("umount /mnt")
        g.poweroff()
        log(f"disk_boot: the token survived the reboot")

    def test_disk_ro(self):
        disk = self.copy_disk("disk_ro.img")
        before = sha256(disk)
        g = self.start("disk_ro", disk=disk, disk_ro=True)
        # Every write may fail in the guest: that is the point.
        g.run("mount -t vfat /dev/sda1 /mnt", check=False)
        g.run("echo must-not-reach-the-host > /mnt/ro-test.txt", check=False)
        g.run("sync", check=False)
        g.run("umount /mnt", check=False)
        g.run("dd if=/dev/zero of=/dev/sda bs=512 count=8 seek=64 conv=fsync", check=False)
        g.run("dd if=/dev/zero of=/dev/sda1 bs=512 count=1 conv=fsync", check=False)
        g.poweroff()
        after = sha256(disk)
        if after != before:
            raise Failure(f"the read-only disk image changed: sha256 {before} -> {after}")
        log(f"disk_ro: image unchanged (sha256 {before})")

    def test_cdrom_boot(self):
        g = self.start("cdrom_boot", cdrom=self.image("boot.iso"))
        g.run("ls /dev/sr0")
        g.run("mount -t iso9660 -o ro /dev/sr0 /mnt")
        out, _ = g.run("ls /mnt")
        if "vmlinuz" not in out or "isolinux" not in out:
            raise Failure(f"the CD's files are not listed; ls /mnt:\n{out}")
        g.run("umount /mnt")
        self.check_dmesg(g)
        g.poweroff()


TESTS = ["kernel_shell", "kernel_noapic", "kernel_apic", "kernel_reboot", "disk_boot", "disk_ro",
         "cdrom_boot"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_images(out):
    """The fixture: runs build-images.sh; on its 'cannot build' status (77)
    leaves the reason in OUT/.skipped for the tests to print."""
    os.makedirs(out, exist_ok=True)
    reason_file = os.path.join(out, ".skipped")
    r = subprocess.run(["sh", os.path.join(HERE, "build-images.sh"), out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout, end="")
    if r.returncode == SKIP:
        lines = [l for l in r.stdout.splitlines() if "SKIPPED" in l] or r.stdout.splitlines()[-1:]
        reason = lines[-1].split("SKIPPED:", 1)[-1].strip() if lines else "build-images.sh exited 77"
        with open(reason_file, "w") as f:
            f.write(reason + "\n")
        print(f"SKIPPED: guest images cannot be built: {reason}", flush=True)
        return SKIP
    if os.path.exists(reason_file):
        os.remove(reason_file)
    return r.returncode


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--emulator", choices=["softvisor", "qemu"], default="softvisor")
    p.add_argument("--softvisor", default="build/softvisor")
    p.add_argument("--images", default="build/guests")
    p.add_argument("--workdir")
    p.add_argument("test", choices=TESTS + ["images"])
    p.add_argument("out", nargs="?")
    args = p.parse_args()
    if args.test == "images":
        return build_images(args.out or args.images)

    # CTest's timeout sends SIGTERM: turn it into a failure so the emulator is killed.
    def on_term(signum, frame):
        raise Failure(f"killed by signal {signum}")
    signal.signal(signal.SIGTERM, on_term)

    runs = os.path.join(os.path.abspath(args.images), "runs")
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
    else:
        os.makedirs(runs, exist_ok=True)
        args.workdir = tempfile.mkdtemp(prefix=f"{args.emulator}-{args.test}-", dir=runs)
    runner = Runner(args)
    t0 = time.monotonic()
    try:
        if args.emulator == "qemu" and not shutil.which("qemu-system-i386"):
            raise Skip("qemu-system-i386 is not installed")
        if args.emulator == "softvisor" and not os.access(args.softvisor, os.X_OK):
            raise Failure(f"{args.softvisor}: not an executable")
        getattr(runner, f"test_{args.test}")()
    except Skip as e:
        print(f"SKIPPED: {args.test}: {e}", flush=True)
        return SKIP
    except (Failure, KeyboardInterrupt) as e:
        print(f"FAIL: {args.test} on {args.emulator}: {e}", flush=True)
        for g in runner.guests:
            if g.proc.poll() is None or g is runner.guests[-1]:
                g.report_failure()
        return 1
    finally:
        for g in runner.guests:
            g.close()
    for g in runner.guests:
        with open(g.stderr_path, "rb") as f:
            stats = f.read().decode("utf-8", "replace").strip()
        if stats:
            print(f"{g.name}: emulator stderr: {stats}")
    log(f"PASS: {args.test} on {args.emulator} in {time.monotonic() - t0:.1f} s host time "
        f"(logs in {args.workdir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
