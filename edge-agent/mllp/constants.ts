/** MLLP framing bytes: <VT> payload <FS><CR>. */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

/** Default cap on one frame's payload; a device sending more is dropped. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
