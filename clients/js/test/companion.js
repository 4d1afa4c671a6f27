// A scripted fake companion for the HTTP tests: a real node:http server on 127.0.0.1:0.
import http from 'node:http';

/**
 * Starts a server on 127.0.0.1:0. `answer(req, n)` gets each request ({ method, url, headers,
 * body, json }) and its index, and returns { status, json } | { status, text } | 'hang' | 'destroy'.
 */
export async function startCompanion(answer) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      let json;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const record = { method: req.method, url: req.url, headers: req.headers, body, json };
      requests.push(record);
      const reply = await answer(record, requests.length - 1);
      if (reply === 'hang') return;
      if (reply === 'destroy') {
        req.socket.destroy();
        return;
      }
      const text = reply.text ?? JSON.stringify(reply.json);
      res.writeHead(reply.status, {
        'content-type': reply.text !== undefined ? 'text/html' : 'application/json',
        ...reply.headers,
      });
      res.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
