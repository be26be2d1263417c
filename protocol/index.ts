export * from './ack-codes';
export * from './content-types';
export * from './limits';
export * from './messages';
export * from './names';
export * from './relay-routes';
export * from './timeouts';
export * from './validate';
