/**
 * `maskinporten scopes list|show|create|delete|access|grant|withdraw`: the scope side of the self-service API — the
 * public scope list, and for an API provider its own scopes and which organisations may use them.
 */
import type { SelfServiceScope } from '../../self-service/index.ts';
import { ADMIN_FLAGS, ADMIN_SECTION, adminHelp, selfServiceFromFlags } from '../admin.ts';
import { parse, UsageError } from '../args.ts';
import type { CliIo } from '../io.ts';
import { type Painter, painter } from '../output.ts';

export const help = `Usage: maskinporten scopes <list|show|create|delete|access|grant|withdraw> [options]

  list [--accessible-for-all] [--mine]
                          the public scope list (no token needed), or --mine: the scopes your organisation owns
  show SCOPE              one of your scopes
  create SCOPE --description TEXT [--accessible-for-all] [--visibility PUBLIC|PRIVATE] [--at-max-age SECONDS]
                          creates a scope under your organisation's prefix (prefix:subscope)
  delete SCOPE            deletes (deactivates) one of your scopes
  access SCOPE            which organisations may use one of your scopes
  grant SCOPE ORGNO       lets an organisation use one of your scopes
  withdraw SCOPE ORGNO    takes that away again: its token requests for the scope then fail (MP-250)

Scope administration needs the scope idporten:scopes.write on the admin client (section ${ADMIN_SECTION}).

${adminHelp}

Examples:
  maskinporten scopes list --accessible-for-all
  maskinporten scopes create myorg:api.read --description "Read access to my API"
  maskinporten scopes grant myorg:api.read 991825827
`;

const ACTIONS = ['list', 'show', 'create', 'delete', 'access', 'grant', 'withdraw'];

function describe(s: SelfServiceScope, dim: Painter['dim']): string {
  return `${s.name}${s.accessible_for_all ? '  (open to all)' : ''}${s.description ? `  ${dim(s.description)}` : ''}`;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parse(
    rest,
    {
      ...ADMIN_FLAGS,
      'accessible-for-all': { type: 'boolean' },
      mine: { type: 'boolean' },
      description: { type: 'string' },
      visibility: { type: 'string' },
      'at-max-age': { type: 'string' },
    },
    true,
  );
  if (!ACTIONS.includes(action ?? ''))
    throw new UsageError(`scopes needs one of ${ACTIONS.join(', ')}${action ? `, got ${JSON.stringify(action)}` : ''}`);
  const json = values.json === true;
  const { bold, dim } = painter(io);
  const out = (data: unknown, text: string) =>
    io.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  const [scope, orgNo] = positionals;
  if (action !== 'list' && !scope) throw new UsageError(`scopes ${action} needs a scope name (prefix:subscope)`);
  if ((action === 'grant' || action === 'withdraw') && !orgNo)
    throw new UsageError(`scopes ${action} needs the organisation number after the scope`);
  if (action === 'create' && !values.description) throw new UsageError('scopes create needs --description');
  let atMaxAge: number | undefined;
  if (values['at-max-age'] !== undefined) {
    atMaxAge = Number(values['at-max-age']);
    if (!Number.isInteger(atMaxAge) || atMaxAge < 0)
      throw new UsageError('--at-max-age must be a whole number of seconds');
  }
  const api = await selfServiceFromFlags(values, io);
  switch (action) {
    case 'list': {
      const list = values.mine
        ? await api.listOwnScopes()
        : await api.listPublicScopes(values['accessible-for-all'] ? { accessibleForAll: true } : {});
      out(list, list.length ? list.map((s) => describe(s, dim)).join('\n') : 'No scopes.');
      return 0;
    }
    case 'show': {
      const s = await api.getScope(scope!);
      out(
        s,
        `${bold(s.name)}\n  description: ${s.description ?? ''}\n  open to all: ${s.accessible_for_all ? 'yes' : 'no'}\n  visibility: ${s.visibility ?? '?'}\n  active: ${s.active === false ? 'no' : 'yes'}`,
      );
      return 0;
    }
    case 'create': {
      const created = await api.createScope({
        name: scope!,
        description: values.description!,
        ...(values['accessible-for-all'] ? { accessibleForAll: true } : {}),
        ...(values.visibility ? { visibility: values.visibility } : {}),
        ...(atMaxAge === undefined ? {} : { atMaxAge }),
      });
      out(
        created,
        `${bold('Created')} ${created.name}. Grant access with: maskinporten scopes grant ${created.name} ORGNO`,
      );
      return 0;
    }
    case 'delete':
      await api.deleteScope(scope!);
      out({ deleted: scope }, `Deleted ${scope}.`);
      return 0;
    case 'access': {
      const list = await api.listScopeAccess(scope!);
      out(
        list,
        list.length
          ? list.map((a) => `${a.consumer_orgno}  ${a.state ?? ''}`.trimEnd()).join('\n')
          : `No organisation has access to ${scope}.`,
      );
      return 0;
    }
    case 'grant': {
      const granted = await api.grantScopeAccess(scope!, orgNo!);
      out(granted, `${bold('Granted')} ${orgNo} access to ${scope}.`);
      return 0;
    }
    default: {
      const withdrawn = await api.withdrawScopeAccess(scope!, orgNo!);
      out(withdrawn ?? { withdrawn: orgNo, scope }, `${bold('Withdrew')} ${orgNo}'s access to ${scope}.`);
      return 0;
    }
  }
}
