/** Why a send to a device failed. `delivered` tells the relay whether a blind retry could duplicate. */
export type DeviceErrorCode =
  | 'CONNECT_REFUSED'
  | 'CONNECT_TIMEOUT'
  | 'ACK_TIMEOUT'
  | 'CLOSED_MID_FRAME'
  | 'CONNECTION_CLOSED'
  | 'FRAME_TOO_LARGE'
  | 'NOT_HL7'
  | 'CLIENT_CLOSED';

export class DeviceError extends Error {
  readonly code: DeviceErrorCode;
  /** True once any byte of the message was handed to the device's socket. */
  readonly delivered: boolean;

  constructor(code: DeviceErrorCode, message: string, delivered: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeviceError';
    this.code = code;
    this.delivered = delivered;
  }
}
