/** Opens a TCP connection with a deadline, turning failures into DeviceErrors (never delivered). */
import { connect, type Socket } from 'node:net';
import { DeviceError } from './device-error';

export function connectSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DeviceError('CONNECT_TIMEOUT', `no connection to ${host}:${port} within ${timeoutMs} ms`, false));
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const why = err.code === 'ECONNREFUSED' ? 'connection refused' : `${err.code ?? 'error'}: ${err.message}`;
      reject(new DeviceError('CONNECT_REFUSED', `cannot connect to ${host}:${port} (${why})`, false, { cause: err }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
