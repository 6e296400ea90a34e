# SPDX-License-Identifier: GPL-2.0
"""One QEMU guest: boot, the ttyS1 command agent, QMP, the console log.

ttyS0 is the kernel console, written to console.log in the run's log
directory; ttyS1 carries commands from the host and their output, so test
output never mixes with kernel messages.  QMP injects machine checks (HMP
"mce" through human-monitor-command) and hot-plugs DIMMs.
"""

import json
import os
import re
import socket
import subprocess
import time

# Intel-flavoured CPU: MCG_CAP has SER_P, so the Intel severity rules apply.
QEMU_CPU = 'max,vendor=GenuineIntel'
MCE_BANKS = 10

# MCi_STATUS / MCG_STATUS pairs of the three uncorrected classes we inject;
# MCG_STATUS always has LMCES (bit 3) so the MCE is local: no rendezvous.
MCE_KINDS = {
    'srao': (0xbd000000000000c0, 0xd),   # memory scrubbing: action optional
    'ucna': (0xbc0000000000009f, 0xd),   # uncorrected, no action: polled
    'srar': (0xbd80000000000134, 0xe),   # data load: action required
}
MCE_MISC_PHYS = 0x86                     # address mode physical, LSB 6

# The agent's answer to a poke sent while an earlier command was running.
_STALE_IDLE = re.compile(r'@@HWPT-IDLE \d+ \d+@@\n?')


class GuestError(Exception):
    """The guest hung, died or broke the agent protocol."""


class Guest:
    def __init__(self, bzimage, initrd, logdir, name='guest', append='',
                 mode='agent', mem_mb=1024, boot_timeout=120, hostroot=False):
        self.bzimage, self.initrd = bzimage, initrd
        self.logdir, self.name = logdir, name
        self.append, self.mode = append, mode
        self.mem_mb, self.boot_timeout = mem_mb, boot_timeout
        self.hostroot = hostroot
        self._dimms = 0
        os.makedirs(logdir, exist_ok=True)
        self.console_path = os.path.join(logdir, f'{name}.console.log')
        self.agent_path = os.path.join(logdir, f'{name}.agent.log')
        self.sock_dir = os.path.join(logdir, f'.{name}.sock')
        self.qmp_path = os.path.join(self.sock_dir, 'qmp')
        self.proc = None
        self._agent = self._qmp = None
        self._buf = ''
        self._seq = 0
        self._last_rx = 0
        self._ready = False
        self._waiting = None
        self._dumped = False
        self.lost_frames = 0            # commands the agent never got
        self._agent_log = None
        self.events = []
        self._bank = 0

    # --- lifetime -------------------------------------------------------
    def qemu_cmd(self):
        half = self.mem_mb // 2
        cmdline = ('console=ttyS0,115200 panic=-1 loglevel=7 '
                   'rcupdate.rcu_cpu_stall_timeout=120 watchdog_thresh=20 '
                   f'hwpt.mode={self.mode} hwpt.hostroot={int(self.hostroot)} '
                   f'{self.append}').strip()
        cmd = ['qemu-system-x86_64', '-accel', 'tcg', '-cpu', QEMU_CPU,
               '-machine', 'pc', '-smp', '2',
               '-m', f'{self.mem_mb}M,slots=4,maxmem=4G',
               '-object', f'memory-backend-ram,id=mem0,size={half}M',
               '-object', f'memory-backend-ram,id=mem1,size={half}M',
               '-numa', 'node,nodeid=0,cpus=0,memdev=mem0',
               '-numa', 'node,nodeid=1,cpus=1,memdev=mem1',
               '-kernel', self.bzimage, '-initrd', self.initrd,
               '-append', cmdline, '-display', 'none', '-no-reboot',
               '-qmp', f'unix:{self.qmp_path},server=on,wait=off']
        if self.hostroot:
            # The host's root, read-only; the guest overlays a tmpfs on it.
            cmd += ['-fsdev', 'local,id=hostroot,path=/,security_model=none,'
                    'readonly=on', '-device',
                    'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot']
        if self.mode == 'shell':
            cmd += ['-serial', 'mon:stdio']
        else:
            cmd += ['-chardev', f'file,id=con,path={self.console_path}',
                    '-serial', 'chardev:con',
                    '-chardev', f'socket,id=agent,path={self.agent_sock},'
                    'server=on,wait=off', '-serial', 'chardev:agent',
                    '-monitor', 'none']
        return cmd

    @property
    def agent_sock(self):
        return os.path.join(self.sock_dir, 'agent')

    def start(self):
        os.makedirs(self.sock_dir, exist_ok=True)
        for p in (self.qmp_path, self.agent_sock):
            if os.path.exists(p):
                os.unlink(p)
        self.t_start = time.time()
        self.proc = subprocess.Popen(self.qemu_cmd(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._qmp = self._connect(self.qmp_path)
        self._qmp_file = self._qmp.makefile('rw')
        self._qmp_read()                             # greeting
        self.qmp('qmp_capabilities')
        self._agent = self._connect(self.agent_sock)
        self._agent_log = open(self.agent_path, 'a')
        self._read_until(re.compile(r'@@HWPT-READY@@'), self.boot_timeout,
                         'boot')
        self._ready = True
        self.boot_s = time.time() - self.t_start
        return self

    def _connect(self, path, timeout=30):
        end = time.time() + timeout
        while True:
            self._check_alive()
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return s
            except OSError:
                s.close()
                if time.time() > end:
                    raise GuestError(f'cannot connect to {path}')
                time.sleep(0.05)

    def _check_alive(self):
        if self.proc and self.proc.poll() is not None:
            out = self.proc.stdout.read().decode(errors='replace')
            raise GuestError(f'QEMU exited ({self.proc.returncode}) {out}'.strip())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        """Power off cleanly if the agent still answers, else kill QEMU."""
        if self.alive():
            try:
                self._send('poweroff -f')
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self._agent, self._qmp):
            if s:
                s.close()
        if self._agent_log:
            self._agent_log.close()
            self._agent_log = None

    def wait_exit(self, timeout):
        """Wait for QEMU to exit by itself (panic=-1 and -no-reboot)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    # --- agent ------------------------------------------------------------
    def _send(self, cmd, seq=None):
        """Send @cmd framed for the agent (see guest/agent.sh)."""
        if seq is None:
            self._seq += 1
            seq = self._seq
        try:
            self._agent.sendall(f'@@HWPT-CMD {seq} {len(cmd)} {cmd} '
                                '@@HWPT-END\n'.encode())
        except OSError as e:
            raise GuestError(f'the agent is gone ({e}): did the guest die?')
        self._agent_log.write(f'\n### {seq} $ {cmd}\n')
        return seq

    def _answer(self, seq, cmd, timeout, what):
        """Read up to @seq's exit status; resend @cmd if it did not arrive.

        The agent answers a poke for @seq with the newest command it ran:
        older than @seq, the frame was lost on the way and is sent again;
        @seq or newer with no exit status seen, the answer was lost.
        """
        done = re.compile(rf'@@HWPT-RC {seq} (\d+)@@\n?|@@HWPT-BAD@@\n?|'
                          rf'@@HWPT-IDLE {seq} (\d+)@@\n?')
        self._waiting = seq
        try:
            for _ in range(5):
                out, m = self._read_until(done, timeout, what)
                if m.group(1) is not None:
                    return int(m.group(1)), out
                if m.group(2) is None:
                    why = 'got a damaged frame'
                elif int(m.group(2)) < seq:
                    why = 'never got the frame'
                    self.lost_frames += 1
                else:
                    raise GuestError(f'the answer to {what} was lost')
                self._agent_log.write(f'\n[host: the agent {why}; sending '
                                      'it again]\n')
                self._send(cmd, seq)
        finally:
            self._waiting = None
        raise GuestError(f'the agent never received "{cmd}" intact')

    def _fill(self, deadline):
        self._agent.settimeout(max(0.05, min(0.5, deadline - time.time())))
        try:
            data = self._agent.recv(65536)
        except socket.timeout:
            self._check_alive()
            # A machine check can swallow a UART interrupt and leave output
            # stuck in the guest, or lose a frame or its end.  Any received
            # byte raises an interrupt whose handler also drains the
            # transmitter; the poke's terminator completes a damaged frame
            # (answered BAD, then resent), and an idle agent answers it
            # with the newest command it ran (see _answer()).
            if self._ready and time.time() - self._last_rx > 2:
                self._agent.sendall(f'@@HWPT-POKE {self._waiting or 0} '
                                    '@@HWPT-END\n'.encode())
                self._agent_log.write('\n[host: poke after 2 s of silence]\n')
                self._last_rx = time.time()
            return
        self._last_rx = time.time()
        if not data:
            self._check_alive()
            raise GuestError('agent connection closed')
        text = data.decode(errors='replace').replace('\r', '')
        self._agent_log.write(text)
        self._agent_log.flush()
        self._buf += text

    def _read_until(self, regex, timeout, what):
        """Consume agent output up to and including a match of @regex."""
        deadline = time.time() + timeout
        while True:
            m = regex.search(self._buf)
            if m:
                # Answers to pokes for an earlier command are stale.
                out = _STALE_IDLE.sub('', self._buf[:m.start()])
                self._buf = self._buf[m.end():]
                return out, m
            if time.time() > deadline:
                self.dump_state()
                raise GuestError(f'timeout after {timeout}s waiting for {what}')
            self._fill(deadline)

    def dump_state(self):
        """Have a guest that stopped answering print why, on its console.

        SysRq over the emulated keyboard needs no guest process: w lists
        the tasks blocked in D state, l backtraces every CPU.  Once per
        boot; the console keeps what it prints for the run's report.
        """
        if not self._ready or self._dumped or self.proc.poll() is not None:
            return
        self._dumped = True
        try:
            for key in 'wl':
                self.hmp(f'sendkey alt-sysrq-{key}')
                time.sleep(2)
        except (OSError, GuestError):
            pass

    def sh(self, cmd, timeout=120):
        """Run @cmd in the guest; return (exit status, output)."""
        seq = self._send(cmd)
        return self._answer(seq, cmd, timeout, f'"{cmd}"')

    def sh_ok(self, cmd, timeout=120):
        rc, out = self.sh(cmd, timeout)
        if rc:
            raise GuestError(f'"{cmd}" failed ({rc}): {out.strip()}')
        return out

    def start_cmd(self, cmd):
        """Start @cmd as a background job; returns its id for expect()/wait().

        The agent stays free for other commands while the job runs.
        """
        seq = self._send(f'&{cmd}')
        self._answer(seq, f'&{cmd}', 30, f'start of "{cmd}"')
        return seq

    def job_output(self, job):
        return self.sh(f'cat /tmp/hwpt-job.{job} 2>/dev/null')[1]

    def expect(self, job, pattern, timeout=60):
        """Wait until the output of @job matches @pattern; returns the match."""
        regex = re.compile(pattern)
        end = time.time() + timeout
        while True:
            m = regex.search(self.job_output(job))
            if m:
                return m
            if time.time() > end:
                raise GuestError(f'timeout after {timeout}s waiting for '
                                 f'/{pattern}/ from job {job}: '
                                 f'{self.job_output(job).strip()[-500:]}')
            time.sleep(0.2)

    def wait(self, job, timeout=120):
        """Wait for @job to end; returns (exit status, output)."""
        end = time.time() + timeout
        while True:
            rc, out = self.sh(f'cat /tmp/hwpt-job.{job}.rc 2>/dev/null')
            if rc == 0 and out.strip():
                return int(out.strip()), self.job_output(job)
            if time.time() > end:
                raise GuestError(f'timeout after {timeout}s waiting for job '
                                 f'{job}: {self.job_output(job).strip()[-500:]}')
            time.sleep(0.2)

    def read_file(self, path):
        return self.sh_ok(f'cat {path}').strip()

    # --- console ----------------------------------------------------------
    def console_mark(self):
        try:
            return os.path.getsize(self.console_path)
        except OSError:
            return 0

    def console(self, since=0, until=None):
        """Kernel console text between two byte offsets (console_mark())."""
        try:
            with open(self.console_path, 'rb') as f:
                f.seek(since)
                data = f.read() if until is None else f.read(until - since)
        except OSError:
            return ''
        return data.decode(errors='replace').replace('\r', '')

    def wait_console(self, pattern, since=0, timeout=30):
        """Wait until the console log after @since matches @pattern."""
        regex = re.compile(pattern, re.M)
        end = time.time() + timeout
        while True:
            m = regex.search(self.console(since))
            if m:
                return m
            if time.time() > end or not self.alive():
                return None
            time.sleep(0.1)

    # --- QMP --------------------------------------------------------------
    def _qmp_read(self):
        while True:
            line = self._qmp_file.readline()
            if not line:
                raise GuestError('QMP connection closed')
            msg = json.loads(line)
            if 'event' in msg:
                self.events.append(msg)
                continue
            return msg

    def qmp(self, execute, **arguments):
        req = {'execute': execute}
        if arguments:
            req['arguments'] = arguments
        try:
            self._qmp_file.write(json.dumps(req) + '\n')
            self._qmp_file.flush()
        except OSError as e:
            raise GuestError(f'QMP is gone ({e}): did QEMU exit?')
        resp = self._qmp_read()
        if 'error' in resp:
            raise GuestError(f'QMP {execute}: {resp["error"]}')
        return resp.get('return')

    def hmp(self, command_line):
        return self.qmp('human-monitor-command', **{'command-line': command_line})

    def wait_event(self, name, timeout=30):
        """Wait for QMP event @name; returns it, or None after @timeout.

        Polls with a cheap command rather than a socket timeout, which would
        leave the buffered QMP file unusable; _qmp_read() queues the events
        that arrive before each answer.
        """
        end = time.time() + timeout
        while True:
            for e in self.events:
                if e['event'] == name:
                    self.events.remove(e)
                    return e
            if time.time() > end:
                return None
            time.sleep(0.2)
            self.qmp('query-status')

    def dimm_add(self, size_mb=128, node=1):
        """Hot-plug a pc-dimm; returns its id for dimm_del()."""
        self._dimms += 1
        dimm = f'hwpt-dimm{self._dimms}'
        self.qmp('object-add', **{'qom-type': 'memory-backend-ram',
                                  'id': f'{dimm}-mem', 'size': size_mb << 20})
        self.qmp('device_add', driver='pc-dimm', id=dimm,
                 memdev=f'{dimm}-mem', node=node)
        return dimm

    def dimm_addr(self, dimm):
        """Physical address where the guest sees @dimm."""
        for dev in self.qmp('query-memory-devices'):
            if dev['data'].get('id') == dimm:
                return dev['data']['addr']
        raise GuestError(f'no memory device {dimm}')

    def dimm_del(self, dimm, timeout=60):
        """Unplug @dimm; True once QEMU reports DEVICE_DELETED."""
        self.qmp('device_del', id=dimm)
        ev = self.wait_event('DEVICE_DELETED', timeout)
        if ev:
            self.qmp('object-del', id=f'{dimm}-mem')
        return ev is not None

    def mce(self, kind, cpu, paddr, bank=None):
        """Inject a machine check of @kind at physical address @paddr.

        Each injection uses a fresh bank, since a bank that still holds a
        valid error gets OVER set instead.
        """
        status, mcg = MCE_KINDS[kind]
        if bank is None:
            self._bank = self._bank % (MCE_BANKS - 1) + 1   # banks 1..9
            bank = self._bank
        out = self.hmp(f'mce {cpu} {bank} {status:#x} {mcg:#x} {paddr:#x} '
                       f'{MCE_MISC_PHYS:#x}')
        if out:
            raise GuestError(f'HMP mce: {out.strip()}')

    def cpu_in_user_mode(self, cpu):
        """Whether vCPU @cpu is at CPL 3 (meaningful while the VM is stopped)."""
        dump = self.hmp('info registers -a')
        parts = re.split(r'^CPU#(\d+)', dump, flags=re.M)
        for i in range(1, len(parts) - 1, 2):
            if int(parts[i]) == cpu:
                m = re.search(r'CPL=(\d)', parts[i + 1])
                return bool(m) and m.group(1) == '3'
        raise GuestError(f'no registers for CPU {cpu}')

    def mce_in_user_mode(self, kind, cpu, paddr, tries=100):
        """Inject @kind on @cpu at a moment when it runs user code.

        An action-required MCE that lands in the kernel is fatal by design
        ("In kernel and no restart IP"), and a spinning process does not own
        its CPU every instant.  So stop the VM, look at the CPU's privilege
        level and inject only at CPL 3; QEMU delivers the MCE before any
        pending interrupt when the VM resumes, on the user instruction.
        Returns the number of tries it took.
        """
        for n in range(1, tries + 1):
            self.qmp('stop')
            try:
                if self.cpu_in_user_mode(cpu):
                    self.mce(kind, cpu, paddr)
                    return n
            finally:
                self.qmp('cont')
            time.sleep(0.02)
        raise GuestError(f'CPU {cpu} never seen in user mode in {tries} tries')
