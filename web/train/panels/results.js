// 4. Results: each epoch's evaluation as the run delivers it (accuracy, macro-F1, per class, the confusion
// matrix), and a sentence classified by the model being (or last) trained.
import { renderPrediction, renderResults, showError } from '../view.js';
import { $ } from '../../dom.js';

export function startResultsPanel({ client }) {
  client.on('tick', ({ evaluation }) => { if (evaluation) renderResults($('results'), evaluation); });

  async function predict() {
    showError('err-predict', null);
    try {
      renderPrediction($('prediction'), await client.call('predict', { text: $('predict-text').value }));
    } catch (e) {
      showError('err-predict', e);
    }
  }
  $('predict').addEventListener('click', predict);
  $('predict-text').addEventListener('keydown', (e) => { if (e.key === 'Enter') predict(); });
}
