// The Ask panel: one prompt answered twice, by the base model and by the adapter, side by side, with the same
// seed and settings; tokens appear as they come (one worker call each), and Stop ends both. Then the adapter's
// files as PEFT saves them, to download.
import { $, h } from '../dom.js';

export function wireAsk(client, settings, message) {
  let stop = false;

  async function answer(adapter, target) {
    const v = settings();
    $(target).textContent = '';
    $(target).dataset.done = 'false';
    $(target).dataset.error = 'false';
    let tokens = 0;
    const started = performance.now();
    try {
      await client.call('begin_answer', {
        prompt: $('prompt').value, adapter, chat: true, maxNewTokens: v.max_new_tokens, temperature: v.temperature, seed: v.seed,
      });
      for (;;) {
        if (stop) break;
        const t = await client.call('next_token');
        tokens += 1;
        $(target).textContent = t.text;
        if (t.done) break;
      }
    } catch (e) {
      $(target).dataset.error = 'true';
      $(target).textContent = adapter && e.field === 'adapter' ? '(train a run first)' : `(${message(e)})`;
    } finally {
      // How many tokens and how long (the seconds include the prompt's pass), for the page's own measurements.
      $(target).dataset.tokens = String(tokens);
      $(target).dataset.seconds = ((performance.now() - started) / 1000).toFixed(2);
      $(target).dataset.done = 'true';
    }
  }

  $('ask').addEventListener('click', async () => {
    stop = false;
    $('ask').disabled = true;
    $('stop-answer').disabled = false;
    await answer(false, 'answer-base');
    await answer(true, 'answer-adapter');
    $('ask').disabled = false;
    $('stop-answer').disabled = true;
  });
  $('stop-answer').addEventListener('click', () => { stop = true; });

  $('export').addEventListener('click', async () => {
    try {
      const files = await client.call('export_adapter');
      $('export-links').replaceChildren(...files.map(([name, bytes]) => h('a', {
        href: URL.createObjectURL(new Blob([bytes])), download: name, class: 'download',
      }, `${name} (${bytes.length.toLocaleString('en-US')} bytes) `)));
      $('ask-status').textContent = 'PEFT loads the first two with PeftModel.from_pretrained(base, folder); llama.cpp, Ollama and LM Studio ' +
        'load adapter.gguf; run.ipynb and run.py are the same run as a Hugging Face PEFT notebook and script, with its data.';
    } catch (e) {
      $('ask-status').textContent = `Could not export: ${message(e)}`;
    }
  });
}
