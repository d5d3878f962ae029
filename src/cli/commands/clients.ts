/**
 * `maskinporten clients create|list|show|delete`: Maskinporten integrations through the self-service API, instead of
 * the portal's forms.
 */
import { ADMIN_FLAGS, adminHelp, selfServiceFromFlags } from '../admin.ts';
import { parse, UsageError } from '../args.ts';
import type { CliIo } from '../io.ts';
import { painter } from '../output.ts';
import { readPublicKeys } from '../public-keys.ts';
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

export async function run(argv: string[], io: CliIo): Promise<number> {
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
  const { bold, dim } = painter(io);
  const out = (data: unknown, text: string) =>
    io.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  switch (action) {
    case 'create': {
      if (!values.name) throw new UsageError('clients create needs --name');
      const scopes = listFlag(values.scope);
      const keys = values['public-key'] ? readPublicKeys(values['public-key'], io) : undefined;
      const api = await selfServiceFromFlags(values, io);
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
      const api = await selfServiceFromFlags(values, io);
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
      const api = await selfServiceFromFlags(values, io);
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
      const api = await selfServiceFromFlags(values, io);
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
