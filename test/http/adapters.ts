/**
 * One driver per HTTP adapter and per supported major of its library, so that one contract
 * (`adapter-contract.test.ts`) runs against each: createFetch on Node's fetch; the undici interceptor on undici 7 and
 * 8 (through `request()`, the redirect interceptor inside); attachToAxios on axios 1.6.0 (the lowest declared) and
 * the latest axios; withMaskinporten on ky 1 and ky 2. A driver sends a request the way a user of that library
 * would and reads back the API's echo.
 */

import axios from 'axios';
import axiosMin from 'axios-min';
import ky from 'ky';
import kyV1 from 'ky-v1';
import * as undici8 from 'undici';
import * as undici7 from 'undici-v7';
import type { MaskinportenClient } from '../../src/client.ts';
import {
  type AuthorizationOptions,
  attachToAxios,
  createFetch,
  maskinportenInterceptor,
  withMaskinporten,
} from '../../src/http/index.ts';
import type { Echo } from './servers.ts';

/** What a test sends. */
export interface SendInit {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** What came back: the status and the API's echo (when the answer was the API's JSON). */
export interface Answer {
  status: number;
  echo: Echo | undefined;
}

/** An adapter set up on one client. */
export interface Authorized {
  send(url: string, init?: SendInit): Promise<Answer>;
  /**
   * The error the library rejects with for `url`: for a 4xx answer where the library throws on one (axios, ky), for
   * a network failure everywhere.
   */
  failure(url: string): Promise<unknown>;
}

/** One adapter on one major of its library. */
export interface Driver {
  /** e.g. `attachToAxios on axios 1.6.0`. */
  name: string;
  /** Whether the adapter sees requests not aimed at one API, so that it needs allowed origins. */
  needsOrigins: boolean;
  /** Whether the library throws for a 4xx answer (so printing that error must show no token). */
  throwsOnStatus: boolean;
  /** Sets the adapter up. */
  authorize(client: MaskinportenClient, options: AuthorizationOptions): Authorized;
  /** Sets it up on an instance made with a base URL (axios `baseURL`, ky's prefix, the interceptor's `baseUrl`). */
  withBase?(client: MaskinportenClient, options: AuthorizationOptions, base: string): Authorized;
}

async function answerOf(status: number, text: string): Promise<Answer> {
  let echo: Echo | undefined;
  try {
    echo = text ? (JSON.parse(text) as Echo) : undefined;
  } catch {
    echo = undefined;
  }
  return { status, echo };
}

/** The rejection of `p` (a test fails on a fulfilment elsewhere). */
async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return undefined;
}

const fetchDriver: Driver = {
  name: 'createFetch on Node’s fetch',
  needsOrigins: false,
  throwsOnStatus: false,
  authorize(client, options) {
    const f = createFetch(client, options);
    return {
      async send(url, init = {}) {
        const res = await f(url, init);
        return answerOf(res.status, await res.text());
      },
      failure: (url) => rejectionOf(f(url)),
    };
  },
};

type Undici = typeof undici8;

function undiciDriver(major: string, u: Undici): Driver {
  const authorize = (client: MaskinportenClient, options: AuthorizationOptions): Authorized => {
    const dispatcher = new u.Agent().compose(
      u.interceptors.redirect({ maxRedirections: 5 }),
      maskinportenInterceptor(client, options),
    );
    return {
      async send(url, init = {}) {
        const res = await u.request(url, {
          dispatcher,
          method: (init.method ?? 'GET') as 'GET',
          ...(init.body === undefined ? {} : { body: init.body }),
          ...(init.headers === undefined ? {} : { headers: init.headers }),
          ...(init.signal === undefined ? {} : { signal: init.signal }),
        });
        return answerOf(res.statusCode, await res.body.text());
      },
      failure: (url) => rejectionOf(u.request(url, { dispatcher })),
    };
  };
  return {
    name: `maskinportenInterceptor on ${major}`,
    needsOrigins: true,
    throwsOnStatus: false,
    authorize,
    withBase: (client, options, base) => authorize(client, { ...options, baseUrl: base }),
  };
}

type Axios = typeof axios;

function axiosDriver(version: string, ax: Axios): Driver {
  const set = (client: MaskinportenClient, options: AuthorizationOptions, baseURL?: string): Authorized => {
    const lenient = ax.create({ validateStatus: () => true, ...(baseURL ? { baseURL } : {}) });
    attachToAxios(lenient, client, options);
    const strict = ax.create(baseURL ? { baseURL } : {});
    attachToAxios(strict, client, options);
    return {
      async send(url, init = {}) {
        const res = await lenient.request({
          url,
          method: init.method ?? 'GET',
          ...(init.body === undefined ? {} : { data: init.body }),
          ...(init.headers === undefined ? {} : { headers: init.headers }),
          ...(init.signal === undefined ? {} : { signal: init.signal }),
          responseType: 'text',
          transformResponse: [(data: unknown) => data],
        });
        return answerOf(res.status, String(res.data ?? ''));
      },
      failure: (url) => rejectionOf(strict.get(url)),
    };
  };
  return {
    name: `attachToAxios on axios ${version}`,
    needsOrigins: true,
    throwsOnStatus: true,
    authorize: (client, options) => set(client, options),
    withBase: (client, options, base) => set(client, options, base),
  };
}

type Ky = typeof ky;

function kyDriver(major: string, k: Ky, prefixOption: 'prefixUrl' | 'prefix'): Driver {
  const set = (client: MaskinportenClient, options: AuthorizationOptions, base?: string): Authorized => {
    const instance = base ? k.create({ [prefixOption]: base } as Parameters<Ky['create']>[0]) : k;
    const strict = withMaskinporten(instance, client, options);
    const lenient = strict.extend({ throwHttpErrors: false });
    return {
      async send(url, init = {}) {
        const res = await lenient(url, {
          method: init.method ?? 'GET',
          ...(init.body === undefined ? {} : { body: init.body }),
          ...(init.headers === undefined ? {} : { headers: init.headers }),
          ...(init.signal === undefined ? {} : { signal: init.signal }),
          retry: { limit: 2, methods: ['get', 'post', 'put'] },
        });
        return answerOf(res.status, await res.text());
      },
      failure: (url) => rejectionOf(strict.get(url).text()),
    };
  };
  return {
    name: `withMaskinporten on ${major}`,
    needsOrigins: true,
    throwsOnStatus: true,
    authorize: (client, options) => set(client, options),
    withBase: (client, options, base) => set(client, options, base),
  };
}

/** Every adapter on every supported major. */
export const DRIVERS: readonly Driver[] = [
  fetchDriver,
  undiciDriver('undici 8', undici8),
  undiciDriver('undici 7', undici7 as unknown as Undici),
  axiosDriver('(latest)', axios),
  axiosDriver('1.6.0 (lowest declared)', axiosMin as unknown as Axios),
  kyDriver('ky 2', ky, 'prefix'),
  kyDriver('ky 1', kyV1 as unknown as Ky, 'prefixUrl'),
];
