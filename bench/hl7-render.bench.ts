/**
 * HL7 v2 rendering and reading throughput (`npm run bench -- hl7-render`). Prints markdown.
 *
 * The message is an ORM^O01 of 15 segments as the FHIR mapping will produce it: MSH (site time
 * zone Europe/Berlin, push-derived MSH-10), PID with repetitions and non-ASCII names, PV1, IN1,
 * ORC, OBR, DG1, five NTE with free text (some needing escapes, one with line breaks) and three
 * OBX. Measured single-threaded after a warm-up: median of 7 rounds of N iterations each, as
 * CPU time of this process (process.cpuUsage), which shared CI machines distort far less than
 * wall time; wall time is printed beside it.
 *
 * - mshSegment + buildMessage: the full render of one push (DTM in a zone, SHA-256 control id);
 * - buildMessage alone, on a prepared model;
 * - readMessage of the rendered text (the inbound direction);
 * - Hl7Message.parse from @medplum/core on the same text, for scale (it does not unescape).
 */
import { Hl7Message } from '@medplum/core';
import { buildMessage } from '../hl7/builder';
import type { Hl7Segment } from '../hl7/er7-model';
import { mshSegment } from '../hl7/msh-header';
import { readMessage } from '../hl7/reader';

const N = Number(process.env.HL7_BENCH_N ?? 5_000);
const ROUNDS = 7;

function body(): Hl7Segment[] {
  return [
    [
      'PID',
      '1',
      '',
      {
        repeat: [
          ['MRN-000123', '', '', ['GENHOSP', '2.16.840.1.113883.3.1', 'ISO'], 'MR'],
          ['99-123-456', '', '', 'SSA', 'SS'],
        ],
      },
      '',
      {
        repeat: [
          ['Müller-Łukasz', 'Zoë', 'Q', '', 'Dr.'],
          ['Mueller', 'Zoe', '', '', '', '', 'A'],
        ],
      },
      '',
      '19800101',
      'F',
      '',
      '',
      ['12 Rue de l’Église', 'Apt 3 & 4', 'Springfield', 'IL', '62704', 'USA'],
      '',
      {
        repeat: [
          ['', 'PRN', 'PH', '', '', '217', '5550123'],
          ['', 'NET', 'Internet', 'zoe@example.org'],
        ],
      },
    ],
    ['PV1', '1', 'O', ['WARD3', '301', 'A', 'GENHOSP'], '', '', '', ['1234', 'Smith', 'Adam', '', '', 'Dr'], '', '', 'MED'],
    ['IN1', '1', ['PLAN01', 'Gold plan'], 'INS01', 'ACME Health | Insurance'],
    ['ORC', 'NW', ['ORD-7781', 'EDGEPUSH'], '', '', 'SC', '', '', '', '20240701120000+0200', '', '', ['1234', 'Smith', 'Adam']],
    [
      'OBR',
      '1',
      ['ORD-7781', 'EDGEPUSH'],
      '',
      ['57021-8', 'CBC W Auto Differential panel - Blood', 'LN'],
      '',
      '20240701120000+0200',
      '',
      '',
      '',
      '',
      '',
      'Fasting ^ 8h',
    ],
    ['DG1', '1', '', ['R50.9', 'Fever, unspecified', 'I10'], '', '', 'W'],
    ['NTE', '1', 'L', 'Patient reports fever ~ 3 days; take sample before 10:00.'],
    ['NTE', '2', 'L', 'Line one\r\nLine two with a back\\slash'],
    ['NTE', '3', 'L', 'Contact: Dr. Smith | ext. 4411'],
    ['NTE', '4', 'L', 'Allergies: penicillin & latex'],
    ['NTE', '5', 'L', 'No special handling.'],
    ['OBX', '1', 'NM', ['8310-5', 'Body temperature', 'LN'], '', '38.4', ['Cel', 'degree Celsius', 'UCUM'], '', '', '', '', 'F'],
    ['OBX', '2', 'NM', ['29463-7', 'Body weight', 'LN'], '', '68', ['kg', 'kilogram', 'UCUM'], '', '', '', '', 'F'],
    ['OBX', '3', 'ST', ['8302-2', 'Body height', 'LN'], '', '172', ['cm', 'centimeter', 'UCUM'], '', '', '', '', 'F'],
  ];
}

const time = new Date('2024-07-01T10:00:00.005Z');
const segments = body();

function render(i: number): string {
  const msh = mshSegment({
    sendingApplication: 'EDGEPUSH',
    sendingFacility: 'CLOUD',
    receivingApplication: 'LIS',
    receivingFacility: 'LAB',
    time,
    timeZone: 'Europe/Berlin',
    timePrecision: 'millisecond',
    messageType: { code: 'ORM', trigger: 'O01', structure: 'ORM_O01' },
    pushId: `3b241101-e2bb-4255-8caf-${String(i).padStart(12, '0')}`,
    characterSet: 'UNICODE UTF-8',
  });
  return buildMessage([msh, ...segments]);
}

const prepared: Hl7Segment[] = [
  ['MSH', '|', '^~\\&', 'EDGEPUSH', 'CLOUD', 'LIS', 'LAB', '20240701120000.005+0200', '', ['ORM', 'O01', 'ORM_O01'], 'C1', 'P', '2.5.1'],
  ...segments,
];
const text = render(0);

function measure(name: string, fn: (i: number) => unknown): string {
  let sink = 0;
  for (let i = 0; i < N / 4; i++) sink += (fn(i) as { length?: number }).length ?? 1; // warm-up
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    const startCpu = process.cpuUsage();
    for (let i = 0; i < N; i++) sink += (fn(i) as { length?: number }).length ?? 1;
    const used = process.cpuUsage(startCpu);
    wall.push(Number(process.hrtime.bigint() - start) / 1000 / N);
    cpu.push((used.user + used.system) / N);
  }
  if (sink === 0) throw new Error('unreachable');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
  const us = median(cpu);
  return `| ${name} | ${us.toFixed(1)} µs | ${Math.round(1e6 / us).toLocaleString('en-US')} | ${median(wall).toFixed(1)} µs |`;
}

const lines = [
  `ORM^O01, ${segments.length + 1} segments, ${Buffer.byteLength(text)} bytes; Node ${process.version}; N=${N}, median of ${ROUNDS} rounds`,
  '',
  '| operation | CPU per message | messages/s per core | wall per message |',
  '|---|---|---|---|',
  measure('mshSegment + buildMessage (full render of a push)', render),
  measure('buildMessage (prepared model)', () => buildMessage(prepared)),
  measure('readMessage (ER7 → JSON, unescaped)', () => readMessage(text).segments),
  measure('@medplum/core Hl7Message.parse (no unescaping)', () => Hl7Message.parse(text).segments),
];
console.log(lines.join('\n'));
