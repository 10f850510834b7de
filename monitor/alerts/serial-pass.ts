/**
 * A pass over stored alerts that never overlaps itself: asked for while one runs, it runs once
 * more right after, however often it was asked (the escalator's and the cluster reminders'
 * passes await Redis claims, and a second pass beside the first would claim the same alerts).
 */
export class SerialPass {
  private passing = false;
  private again = false;

  constructor(
    private run: () => Promise<void>,
    private failed: (err: unknown) => void,
  ) {}

  request(): void {
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = true;
    this.run().then(
      () => {
        this.passing = false;
        if (this.again) {
          this.again = false;
          this.request();
        }
      },
      (err) => {
        this.passing = false;
        this.failed(err);
      },
    );
  }
}
