"""A headless chromium driven through the Chrome DevTools Protocol, for the
tests of the HTML report: load a page, record its console messages,
exceptions and network requests, evaluate JavaScript, click, screenshot.

The websocket is python3-websocket's (websocket-client, Debian's package).
Chromium listens on a port it picks (--remote-debugging-port=0) and writes
it to DevToolsActivePort in its fresh profile directory."""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

CHROMIUM = os.environ.get('CHROMIUM') or shutil.which('chromium') or '/usr/bin/chromium'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-default-apps', '--disable-extensions', '--mute-audio',
         '--remote-debugging-port=0', '--window-size=1400,1000']
START_TIMEOUT = 60


def available():
    """None when a browser and the websocket client are here, else why not."""
    if not os.access(CHROMIUM, os.X_OK):
        return 'no chromium (%s); tools/install-deps installs it' % CHROMIUM
    try:
        import websocket  # noqa: F401
    except ImportError:
        return 'no websocket client (python3-websocket); tools/install-deps installs it'
    return None


class Browser(object):
    """One chromium with one page; use it as a context manager."""

    def __init__(self):
        import websocket
        self.profile = tempfile.mkdtemp(prefix='ph-chromium-')
        self.proc = subprocess.Popen([CHROMIUM] + FLAGS + ['--user-data-dir=' + self.profile,
                                                           'about:blank'],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.profile, 'stderr'), 'wb'),
                                     start_new_session=True)
        port = self._port()
        deadline = time.time() + START_TIMEOUT
        page = None
        while page is None:
            with urllib.request.urlopen('http://127.0.0.1:%d/json/list' % port, timeout=10) as r:
                page = next((t for t in json.load(r) if t.get('type') == 'page'), None)
            if page is None:
                if time.time() > deadline:
                    raise RuntimeError('chromium opened no page')
                time.sleep(0.2)
        self.ws = websocket.create_connection(page['webSocketDebuggerUrl'], timeout=60,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []

    def _port(self):
        path = os.path.join(self.profile, 'DevToolsActivePort')
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('chromium exited with %s: %s' % (self.proc.returncode,
                                                                    self._stderr()))
            try:
                with open(path) as f:
                    first = f.readline().strip()
                if first:
                    return int(first)
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError('chromium wrote no DevToolsActivePort in %ds' % START_TIMEOUT)

    def _stderr(self):
        try:
            with open(os.path.join(self.profile, 'stderr'), 'rb') as f:
                return f.read()[-2000:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def send(self, method, **params):
        """Calls method; returns its result (events met meanwhile are kept)."""
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({'id': mine, 'method': method, 'params': params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get('id') == mine:
                if 'error' in msg:
                    raise RuntimeError('%s failed: %s' % (method, msg['error']))
                return msg.get('result', {})
            if 'method' in msg:
                self.events.append(msg)

    def wait_event(self, method, timeout=60):
        """The first event named method (met before or after this call)."""
        for e in self.events:
            if e['method'] == method:
                return e
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if 'method' in msg:
                self.events.append(msg)
                if msg['method'] == method:
                    return msg
        raise RuntimeError('no %s in %ds' % (method, timeout))

    def evaluate(self, expression):
        """The value of a JavaScript expression (JSON-able), or raises."""
        r = self.send('Runtime.evaluate', expression=expression, returnByValue=True,
                      awaitPromise=True)
        if 'exceptionDetails' in r:
            raise RuntimeError('%s raised: %s' % (expression, r['exceptionDetails']))
        return r['result'].get('value')

    def open(self, url):
        """Loads url with the Runtime, Log, Network and Page domains on."""
        for domain in ('Runtime', 'Log', 'Network', 'Page'):
            self.send(domain + '.enable')
        self.events = []
        self.send('Page.navigate', url=url)
        self.wait_event('Page.loadEventFired')

    def errors(self):
        """Console errors, uncaught exceptions and error log entries, as text."""
        out = []
        for e in self.events:
            p = e.get('params', {})
            if e['method'] == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
                out.append('console.%s: %s' % (p['type'], ' '.join(
                    str(a.get('value', a.get('description'))) for a in p.get('args', []))))
            elif e['method'] == 'Runtime.exceptionThrown':
                d = p.get('exceptionDetails', {})
                out.append('exception: %s' % (d.get('exception', {}).get('description') or d.get('text')))
            elif e['method'] == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
                out.append('log: %s' % p['entry'].get('text'))
        return out

    def requests(self):
        """The URL of every request the page made."""
        return [e['params']['request']['url'] for e in self.events
                if e['method'] == 'Network.requestWillBeSent']

    def click(self, x, y):
        for kind in ('mouseMoved', 'mousePressed', 'mouseReleased'):
            self.send('Input.dispatchMouseEvent', type=kind, x=x, y=y, button='left',
                      clickCount=0 if kind == 'mouseMoved' else 1)

    def screenshot(self, path, full_page=False):
        params = {'format': 'png'}
        if full_page:
            params['captureBeyondViewport'] = True
        data = self.send('Page.captureScreenshot', **params)['data']
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
