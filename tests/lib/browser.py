# SPDX-License-Identifier: ISC
# browser: a headless chromium for the tests, driven by chromedriver through
# the W3C WebDriver HTTP API with nothing but the standard library.
#
#   from browser import Browser
#
#   with Browser(tmpdir) as b:        # skips the test if there is no chromium
#       b.get('http://127.0.0.1:8080/')
#       n = b.js('return document.querySelectorAll("tr").length')
#
# chromedriver runs in a process group of its own, which chromium's
# processes join; leaving the block ends the session and then kills that
# group, whatever happened in the block.  chromedriver picks its own port
# (--port=0) and says which, so no port is guessed.  Chromium's profile and
# temporary files go under tmpdir.

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

from synacktest import fail, note, skip, wait_for

DRIVERS = ('chromedriver', '/usr/bin/chromedriver', '/usr/lib/chromium/chromedriver')
BROWSERS = ('chromium', 'chromium-browser', '/usr/lib/chromium/chromium',
            'google-chrome', 'google-chrome-stable')
STARTED_RE = re.compile(r'started successfully on port (\d+)')


def _find(env, names):
    path = os.environ.get(env)
    if path:
        return path if os.access(path, os.X_OK) else None
    for name in names:
        exe = shutil.which(name)
        if exe:
            return exe
    return None


class WebDriverError(Exception):
    def __init__(self, status, error, message):
        super().__init__('%s (HTTP %d): %s' % (error, status, message))
        self.error = error


class Browser:
    """One chromium session.  width, height: the window; call timeouts are
    in seconds."""

    def __init__(self, tmpdir, width=1280, height=900, start_timeout=30.0):
        self.driver = _find('SYNACK_CHROMEDRIVER', DRIVERS)
        self.binary = _find('SYNACK_CHROMIUM', BROWSERS)
        if self.driver is None:
            skip('no chromedriver here (set SYNACK_CHROMEDRIVER)')
        if self.binary is None:
            skip('no chromium here (set SYNACK_CHROMIUM)')
        self.tmpdir = tmpdir
        self.proc = None
        self.port = None
        self.session = None
        self._out = []
        self._cond = threading.Condition()
        try:
            self._start_driver(start_timeout)
            self._new_session(width, height, start_timeout)
        except BaseException:
            self.close()
            raise

    # -- chromedriver ----------------------------------------------------------

    def _spawn(self):
        # chromium writes crash report settings and a dconf cache under
        # $HOME whatever its profile: all of it goes to tmpdir
        env = dict(os.environ, TMPDIR=self.tmpdir, HOME=self.tmpdir,
                   XDG_CONFIG_HOME=os.path.join(self.tmpdir, '.config'),
                   XDG_CACHE_HOME=os.path.join(self.tmpdir, '.cache'))
        self._out = []
        self.proc = subprocess.Popen(
            [self.driver, '--port=0'], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.tmpdir,
            env=env, start_new_session=True)
        threading.Thread(target=self._drain, args=(self.proc.stdout, self._out),
                         daemon=True).start()

    def _drain(self, stream, out):
        for raw in iter(stream.readline, b''):
            with self._cond:
                out.append(raw.decode('utf-8', errors='replace').rstrip('\n'))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _wait_started(self, timeout):
        """The port chromedriver says it listens on, or None if it exited
        or did not say so in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._out:
                    m = STARTED_RE.search(line)
                    if m:
                        return int(m.group(1))
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self._cond.wait(min(left, 0.2))

    def _start_driver(self, timeout):
        # --port=0: chromedriver binds a port the kernel chose and names it
        self._spawn()
        self.port = self._wait_started(timeout / 2)
        if not self.port:
            self._kill_group()
            skip('chromedriver %s did not start:\n%s' %
                 (self.driver, '\n'.join(self._out[-20:])))

        def ready():
            try:
                return self._call('GET', '/status', timeout=5).get('ready')
            except (OSError, WebDriverError, ValueError):
                return False
        if not wait_for(ready, timeout / 2, interval=0.1):
            skip('chromedriver on port %d never said it was ready' % self.port)

    def _new_session(self, width, height, timeout):
        args = ['--headless=new', '--no-sandbox', '--disable-gpu',
                '--window-size=%d,%d' % (width, height),
                '--user-data-dir=%s' % os.path.join(self.tmpdir, 'chromium-profile'),
                # no traffic of its own (updates, safe browsing, sync)
                '--disable-background-networking', '--disable-component-update',
                '--disable-sync', '--disable-extensions', '--no-first-run',
                '--no-default-browser-check', '--disable-dev-shm-usage']
        caps = {'capabilities': {'alwaysMatch': {
            'browserName': 'chrome',
            'pageLoadStrategy': 'normal',
            'timeouts': {'script': 10000, 'pageLoad': 20000},
            'goog:loggingPrefs': {'browser': 'ALL'},
            'goog:chromeOptions': {'binary': self.binary, 'args': args}}}}
        try:
            v = self._call('POST', '/session', caps, timeout=timeout)
        except (OSError, WebDriverError) as e:
            skip('chromium %s cannot start here: %s\n%s' %
                 (self.binary, e, '\n'.join(self._out[-20:])))
        self.session = v['sessionId']

    # -- the protocol -------------------------------------------------------------

    def _call(self, method, path, body=None, timeout=15.0):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, body=data,
                         headers={'Content-Type': 'application/json; charset=utf-8'})
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        value = json.loads(raw or b'{}').get('value')
        if r.status != 200:
            if isinstance(value, dict):
                raise WebDriverError(r.status, value.get('error'),
                                     (value.get('message') or '')[:2000])
            raise WebDriverError(r.status, 'unknown', raw[:500].decode(errors='replace'))
        return value

    def call(self, method, what, body=None, timeout=15.0):
        """A command of this session: what is the path after /session/ID."""
        if self.session is None:
            fail('no browser session')
        try:
            return self._call(method, '/session/%s/%s' % (self.session, what), body,
                              timeout)
        except WebDriverError as e:
            fail('WebDriver %s %s: %s' % (method, what, e))
        except OSError as e:
            fail('WebDriver %s %s: chromedriver: %s' % (method, what, e))

    def get(self, url):
        """Navigate and wait for the load event."""
        self.call('POST', 'url', {'url': url}, timeout=30)

    def reload(self):
        self.call('POST', 'refresh', {}, timeout=30)

    def js(self, script, *args):
        """Run script (a function body: `return` gives the result)."""
        return self.call('POST', 'execute/sync', {'script': script, 'args': list(args)})

    def cdp(self, cmd, params=None):
        """A Chrome DevTools Protocol command (chromedriver's extension)."""
        return self.call('POST', 'goog/cdp/execute', {'cmd': cmd, 'params': params or {}})

    def console(self):
        """The browser log (console messages, page errors, failed loads)
        since the last call: [{'level', 'message', ...}]."""
        return self.call('POST', 'se/log', {'type': 'browser'})

    def screenshot(self, path):
        import base64
        with open(path, 'wb') as f:
            f.write(base64.b64decode(self.call('GET', 'screenshot', timeout=30)))

    # -- the end ----------------------------------------------------------------

    def _kill_group(self):
        """Kill chromedriver's process group (chromium is in it).  The leader
        is reaped only after the group's SIGKILL: until then its pid, the
        group's id, cannot name another process's group."""
        p = self.proc
        if p is None:
            return
        self.proc = None
        pgid = p.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        def exited():
            try:
                return os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return True
        wait_for(exited, 5, interval=0.05)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        # the rest of the group (chromium's processes) is dying: wait for it,
        # so that nothing writes to tmpdir while it is being removed
        def group_gone():
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                return True
            return False
        if not wait_for(group_gone, 5, interval=0.05):
            note('chromedriver process group %d still has processes' % pgid)

    def close(self):
        if self.session is not None and self.proc is not None:
            try:
                self._call('DELETE', '/session/%s' % self.session, timeout=10)
            except (OSError, WebDriverError, ValueError):
                pass
        self.session = None
        self._kill_group()

    def __enter__(self):
        return self

    def __exit__(self, etype, evalue, tb):
        self.close()
        return False

