/**
 * A form's button press that writes to the API: the button is disabled while it runs; on
 * success `done` redraws, on refusal the server's sentence shows in `error` and the button
 * can be pressed again. One behaviour for every desk form (notes, silences, alert actions).
 */

import { ApiError } from './api.ts';

export async function submit(button: HTMLButtonElement, error: HTMLElement, send: () => Promise<unknown>, done: () => void): Promise<void> {
  button.disabled = true;
  error.textContent = '';
  try {
    await send();
    done();
  } catch (err) {
    error.textContent =
      err instanceof ApiError && err.status === 403 ? `not allowed for this login: ${err.message}` : (err as Error).message;
    button.disabled = false;
  }
}
