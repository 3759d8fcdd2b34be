/**
 * A loop's sleep that a wake-up cuts short: `sleep(ms)` resolves after `ms`
 * or at the next `wake()`, whichever comes first. A wake-up while awake is
 * not kept (the loop looks at its work before sleeping again).
 */
export class Nap {
  #wake: () => void = () => {};

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = () => {};
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = () => {};
        resolve();
      };
    });
  }

  wake(): void {
    this.#wake();
  }
}
