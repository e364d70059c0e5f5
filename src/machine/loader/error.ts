/** A kernel image the loaders cannot use: the message names what is wrong with it. */
export class LoaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoaderError';
  }
}
