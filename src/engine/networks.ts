/** Bridge networks over the Engine API: a session's own, the shared isolated one, the egress proxy's. */
import type { EngineHttp } from './http.js';
import type { CreateNetworkOptions, EngineNetworks } from './engine.js';
import { EngineApiError, isConflict, isNotFound } from './errors.js';
import type { NetworkInspect, NetworkSummary } from './types.js';

const path = (name: string, action = '') => `/networks/${encodeURIComponent(name)}${action}`;

export class ApiNetworks implements EngineNetworks {
  constructor(private readonly http: EngineHttp) {}

  async create(request: CreateNetworkOptions): Promise<string> {
    const created = await this.http.json<{ Id: string }>('POST', '/networks/create', {
      body: { Name: request.name, CheckDuplicate: true, Driver: 'bridge', Internal: request.internal, Options: request.options, Labels: request.labels },
    });
    return created.Id;
  }

  async inspect(name: string): Promise<NetworkInspect | undefined> {
    try {
      return await this.http.json<NetworkInspect>('GET', path(name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  list(labels: string[]): Promise<NetworkSummary[]> {
    return this.http.json('GET', '/networks', { query: { filters: JSON.stringify({ label: labels }) } });
  }

  async remove(name: string): Promise<boolean> {
    try {
      await this.http.json('DELETE', path(name));
      return true;
    } catch (error) {
      if (isNotFound(error)) return true;
      // In use (409), or one of the engine's own networks (403).
      if (isConflict(error) || (error instanceof EngineApiError && error.statusCode === 403)) return false;
      throw error;
    }
  }

  async connect(network: string, container: string, aliases: string[] = []): Promise<void> {
    await this.http.json('POST', path(network, '/connect'), {
      body: { Container: container, EndpointConfig: aliases.length > 0 ? { Aliases: aliases } : {} },
    });
  }

  async disconnect(network: string, container: string): Promise<void> {
    try {
      await this.http.json('POST', path(network, '/disconnect'), { body: { Container: container, Force: true } });
    } catch (error) {
      if (isNotFound(error) || (error instanceof EngineApiError && /is not connected/.test(error.message))) return;
      throw error;
    }
  }
}
