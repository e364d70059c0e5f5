/** Something the host cannot do (no apt, no lists, a failed download, a kernel it cannot unpack): one line for the user. */
export class GuestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestError';
  }
}
