/**
 * `edgepush template put|list|get|render|from-sample`: mapping templates through the HTTP API
 * (put: admin scope; list, get, render: push scope), and `from-sample`, which proposes a template
 * offline from a sample ER7 message and a JSON example of the data.
 *
 * Exit codes: 0 done; 1 the API refused (an invalid template, an unknown one, bad data: the
 * code and the rule are printed); 2 usage (a missing or unreadable file, no --api/--token).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { callApi, toApiError } from '../api-client';
import { REGION_HELP, SIGV4_HELP, UsageError, resolveTarget, runCommand, type TargetFlags } from './target';

const withTarget = (cmd: Command, scope: string): Command =>
  cmd
    .option('--api <url>', 'EdgePush API base URL (env EDGEPUSH_API)')
    .option('--token <jwt>', `bearer token with ${scope} (env EDGEPUSH_TOKEN)`)
    .option('--sigv4', SIGV4_HELP)
    .option('--region <region>', REGION_HELP);

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function readJson(file: string, flag: string): unknown {
  const text = readText(file, flag);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${flag} ${file} is not JSON: ${(err as Error).message}`);
  }
}

export function registerTemplateCommands(program: Command): void {
  const template = program.command('template').description('Mapping templates: render HL7 v2 or ASTM from JSON data (docs/MAPPING.md).');

  withTarget(template.command('put'), 'edgepush/admin')
    .description('Store a template (checked: an error names the bad rule, e.g. segments[3].fields[5]).')
    .argument('<name>')
    .requiredOption('--file <file>', 'the template document (JSON)')
    .action((name: string, flags: TargetFlags & { file: string }) =>
      runCommand('template put', async () => {
        const doc = readJson(flags.file, '--file');
        const res = await callApi(resolveTarget(flags), 'PUT', `/templates/${encodeURIComponent(name)}`, doc);
        if (res.status !== 200 && res.status !== 201) throw toApiError(res);
        print(res.body);
        return 0;
      }),
    );

  withTarget(template.command('list'), 'edgepush/push')
    .description('List the stored templates (name, target, message type).')
    .action((flags: TargetFlags) =>
      runCommand('template list', async () => {
        const res = await callApi(resolveTarget(flags), 'GET', '/templates');
        if (res.status !== 200) throw toApiError(res);
        print(res.body);
        return 0;
      }),
    );

  withTarget(template.command('get'), 'edgepush/push')
    .description('Show a stored template with its document.')
    .argument('<name>')
    .action((name: string, flags: TargetFlags) =>
      runCommand('template get', async () => {
        const res = await callApi(resolveTarget(flags), 'GET', `/templates/${encodeURIComponent(name)}`);
        if (res.status !== 200) throw toApiError(res);
        print(res.body);
        return 0;
      }),
    );

  withTarget(template.command('render'), 'edgepush/push')
    .description('Preview: render a stored template with JSON data, nothing pushed. Prints the message, one segment or record per line.')
    .argument('<name>')
    .requiredOption('--data <file>', 'the data (JSON)')
    .option('--json', 'print the API answer {contentType, body, controlId} instead')
    .action((name: string, flags: TargetFlags & { data: string; json?: boolean }) =>
      runCommand('template render', async () => {
        const data = readJson(flags.data, '--data');
        const res = await callApi<{ body: string }>(resolveTarget(flags), 'POST', `/templates/${encodeURIComponent(name)}/render`, {
          data,
        });
        if (res.status !== 200) throw toApiError(res);
        if (flags.json) print(res.body);
        else process.stdout.write(res.body.body.replace(/\r/g, '\n'));
        return 0;
      }),
    );

  template
    .command('from-sample')
    .description(
      'Propose a template from a sample ER7 message and a JSON example: values found in the JSON become paths, the rest constants.',
    )
    .requiredOption('--er7 <file>', 'a sample HL7 v2 message (ER7; CR or LF line ends)')
    .requiredOption('--json <file>', 'a JSON example of the data the template will take')
    .action((flags: { er7: string; json: string }) =>
      runCommand('template from-sample', async () => {
        const er7 = readText(flags.er7, '--er7').replace(/\r\n|\n/g, '\r');
        const example = readJson(flags.json, '--json');
        // Loaded here: the other subcommands need none of the mapping code.
        const { templateFromSample } = await import('../../mapping/from-sample');
        try {
          print(templateFromSample(er7, example));
        } catch (err) {
          throw new UsageError(`--er7 ${flags.er7}: ${(err as Error).message}`);
        }
        return 0;
      }),
    );
}
