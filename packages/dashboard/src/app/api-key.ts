const STORAGE_KEY = 'au.apiKey';

/**
 * The API key: asked once in a dialog when the server answers 401, then kept in
 * `sessionStorage` (this tab only, gone when it closes).
 */
export class ApiKey {
  #asking: Promise<string> | undefined;

  get(): string | undefined {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  }

  /** Shows the dialog (once, however many requests wait) and resolves with the key given. */
  ask(message: string): Promise<string> {
    this.#asking ??= new Promise<string>((resolve) => {
      const dialog = document.getElementById('key-dialog') as HTMLDialogElement;
      const form = document.getElementById('key-form') as HTMLFormElement;
      const input = document.getElementById('key-input') as HTMLInputElement;
      (document.getElementById('key-message') as HTMLElement).textContent = message;
      input.value = '';
      const onSubmit = () => {
        const key = input.value.trim();
        if (key === '') return;
        sessionStorage.setItem(STORAGE_KEY, key);
        form.removeEventListener('submit', onSubmit);
        this.#asking = undefined;
        (document.getElementById('change-key') as HTMLElement).hidden = false;
        resolve(key);
      };
      form.addEventListener('submit', onSubmit);
      dialog.addEventListener('cancel', (event) => event.preventDefault());
      dialog.showModal();
      input.focus();
    });
    return this.#asking;
  }

  forget(): void {
    sessionStorage.removeItem(STORAGE_KEY);
  }
}
