// The device every client in bench/mllp.bench.ts talks to, run as its own process
// (`node bench/mllp-device.mjs` prints its port): it answers each MLLP frame with an AA whose
// MSA-2 is the frame's MSH-10. A few lines of plain `net`, no HL7 library, so it costs every
// client the same and as little as a correct device can; not edgepush code, which is measured
// on the client side only.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:net';

function ackFor(frame) {
  const text = frame.toString('latin1');
  const end = text.indexOf('\r');
  const id = (end === -1 ? text : text.slice(0, end)).split('|')[9] ?? '';
  return Buffer.from(`\x0bMSH|^~\\&|DEV|FAC|EP|CLOUD|20240101000000||ACK^A01^ACK|D${id}|P|2.5.1\rMSA|AA|${id}\r\x1c\r`, 'latin1');
}

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let partial = [];
  socket.on('data', (chunk) => {
    let from = 0;
    for (let fs = chunk.indexOf(0x1c); fs !== -1; fs = chunk.indexOf(0x1c, from)) {
      const bytes = Buffer.concat([...partial, chunk.subarray(from, fs)]);
      partial = [];
      const vt = bytes.indexOf(0x0b);
      if (vt !== -1) socket.write(ackFor(bytes.subarray(vt + 1)));
      from = fs + 1;
    }
    if (from < chunk.length) partial.push(Buffer.from(chunk.subarray(from)));
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => process.exit(0));
