/**
 * `maskinporten clients create|list|show|delete`: Maskinporten integrations through the self-service API, instead of
 * the portal's forms.
 */
import { readFileSync } from 'node:fs';
import type { RsaPublicJwk } from '../../keys/jwk.ts';
import { JWK_PRIVATE_MEMBERS } from '../../self-service/index.ts';
import { ADMIN_FLAGS, adminHelp, selfServiceFromFlags } from '../admin.ts';
import { parse, UsageError } from '../args.ts';
import { bold, dim } from '../output.ts';
import { listFlag } from '../settings-flags.ts';

export const help = `Usage: maskinporten clients <create|list|show|delete> [options]

  create --name NAME --scope SCOPE… [--description TEXT] [--public-key FILE]
                      registers an integration; with --public-key (a JWK or the public.jwk.json array from keygen)
                      also registers its key
  list                lists your organisation's integrations
  show ID             shows one integration and its keys
  delete ID           deletes (deactivates) an integration

${adminHelp}

Examples:
  maskinporten clients create --name my-app --description "Sends notifications" --scope altinn:serviceowner/notifications.create --public-key maskinporten-keys/public.jwk.json
  maskinporten clients list --json
`;

/** Reads public keys from a file: one JWK, an array of JWKs, or {"keys":[…]}. Refuses private keys. */
export function readPublicKeys(file: string): RsaPublicJwk[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--public-key ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the file around the error, and the file may hold key material: never shown.
    throw new UsageError(
      `--public-key ${file} is not valid JSON: give a public JWK, an array of them (public.jwk.json from keygen) or {"keys":[…]}`,
    );
  }
  const list = Array.isArray(value)
    ? value
    : Array.isArray((value as { keys?: unknown })?.keys)
      ? (value as { keys: unknown[] }).keys
      : [value];
  for (const k of list as unknown[]) {
    if (k === null || typeof k !== 'object' || Array.isArray(k))
      throw new UsageError(`--public-key ${file} must hold JWK objects`);
    const found = JWK_PRIVATE_MEMBERS.filter((m) => Object.hasOwn(k, m));
    if (found.length) {
      throw new UsageError(
        `--public-key ${file} holds a private key (members ${found.join(', ')}): pass public.jwk.json, never the private key`,
      );
    }
  }
  return list as RsaPublicJwk[];
}

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parse(
    rest,
    {
      ...ADMIN_FLAGS,
      name: { type: 'string' },
      description: { type: 'string' },
      scope: { type: 'string', multiple: true },
      'public-key': { type: 'string' },
    },
    true,
  );
  const json = values.json === true;
  const out = (data: unknown, text: string) =>
    process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  switch (action) {
    case 'create': {
      if (!values.name) throw new UsageError('clients create needs --name');
      const scopes = listFlag(values.scope);
      const keys = values['public-key'] ? readPublicKeys(values['public-key']) : undefined;
      const api = await selfServiceFromFlags(values);
      const created = await api.createClient({
        clientName: values.name,
        description: values.description ?? values.name,
        scopes,
      });
      const keySet = keys ? await api.replaceKeys(created.client_id, keys) : undefined;
      out(
        { client: created, ...(keySet ? { keys: keySet.keys } : {}) },
        `${bold('Created')} ${created.client_name}: client id ${created.client_id}\n  scopes: ${created.scopes.join(' ') || dim('(none)')}${keySet ? `\n  keys: ${keySet.keys.map((k) => k.kid).join(', ')}` : ''}\nSet ClientId to ${created.client_id} in your settings.`,
      );
      return 0;
    }
    case 'list': {
      const api = await selfServiceFromFlags(values);
      const list = await api.listClients();
      out(
        list,
        list.length
          ? list.map((c) => `${c.client_id}  ${c.client_name}  ${dim(c.scopes.join(' '))}`).join('\n')
          : 'No integrations.',
      );
      return 0;
    }
    case 'show': {
      const id = positionals[0];
      if (!id) throw new UsageError('clients show needs a client id');
      const api = await selfServiceFromFlags(values);
      const [client, keys] = await Promise.all([api.getClient(id), api.getKeys(id)]);
      out(
        { client, keys: keys.keys },
        `${bold(client.client_name)} (${client.client_id})\n  organisation: ${client.client_orgno ?? '?'}\n  description: ${client.description ?? ''}\n  scopes: ${client.scopes.join(' ')}\n  keys: ${keys.keys.map((k) => k.kid).join(', ') || dim('(none)')}`,
      );
      return 0;
    }
    case 'delete': {
      const id = positionals[0];
      if (!id) throw new UsageError('clients delete needs a client id');
      const api = await selfServiceFromFlags(values);
      await api.deleteClient(id);
      out({ deleted: id }, `Deleted ${id}.`);
      return 0;
    }
    default:
      throw new UsageError(
        `clients needs one of create, list, show, delete${action ? `, got ${JSON.stringify(action)}` : ''}`,
      );
  }
}
