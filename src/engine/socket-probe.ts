/**
 * Whether a socket file on this machine is a container engine's API: a session must never get one (it would own the
 * host). Kept in the engine layer, which alone knows what an engine's answer looks like.
 */
import http from 'node:http';

/** True when the socket answers the Docker Engine API's GET /_ping (Docker's and Podman's headers alike). */
export async function answersEngineApi(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode === 200 && (Boolean(res.headers['api-version']) || Boolean(res.headers['docker-experimental']) || Boolean(res.headers['libpod-api-version'])));
    });
    req.on('error', () => done(false));
    req.on('timeout', () => { req.destroy(); done(false); });
  });
}
