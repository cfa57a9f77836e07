// "Train this setup" (calculator -> trainer) and "open in the calculator" (trainer -> calculator): the settings
// both pages share, carried as explicit values. Each page's own link leaves out its defaults, and the two pages'
// defaults differ (lora_alpha 8 in the calculator, as PEFT's LoraConfig; 16 in the trainer), so a setting left out
// would change meaning on the way.
import { hashText, toBase64Url } from './hash-state.js';

// Every preset the trainer trains (at most 150M parameters), and how it loads each: by the server's models/ folder
// name, or by Hub id (from huggingface.co, or the course's mirror given as `hub=`). For the others the LoRA numbers
// go over and the trainer keeps its own model (and module names). The Hub ids are the published repositories
// (their checkpoints' keys and tokenizer.json as the trainer reads them); the real Hub is not reachable from the
// test machines, so that is from their published layout, not a download.
const TRAINABLE = {
  'all-MiniLM-L6-v2': 'all-MiniLM-L6-v2',
  'bert-base-uncased': 'hf:google-bert/bert-base-uncased',
  'distilbert-base-uncased': 'hf:distilbert/distilbert-base-uncased',
  'roberta-base': 'hf:FacebookAI/roberta-base',
  'ModernBERT-base': 'hf:answerdotai/ModernBERT-base',
  gpt2: 'hf:openai-community/gpt2',
};
// The language models among the presets: they train in lm.html (by the name its model picker uses), with PEFT's
// names for the settings there (`lora_alpha`, `target_modules`).
const LANGUAGE_MODELS = { 'gemma-3-270m': 'gemma-3-270m' };
const presetOf = (model) => Object.keys(TRAINABLE).find((k) => TRAINABLE[k] === model);
// The calculator's 4-bit precisions are the trainers' NF4 base (QLoRA); the trainers compute in float32, which the
// calculator's `nf4-fp32` counts.
const isFourBit = (precision) => precision === 'nf4' || precision === 'nf4-fp32';
// Commas, colons and slashes as typed, as the trainer writes its own hash (`model=hf:org/name`).
const hash = (params) => hashText(params, ',:/');

// The calculator's state -> train.html's link, and whether it trains the same model.
export function trainLink(s) {
  const p = new URLSearchParams();
  if (s.model in LANGUAGE_MODELS && !s.config) {
    p.set('model', LANGUAGE_MODELS[s.model]);
    p.set('r', s.r);
    p.set('lora_alpha', s.alpha);
    if (s.targets) p.set('target_modules', Array.isArray(s.targets) ? s.targets.join(',') : s.targets);
    if (isFourBit(s.precision)) p.set('base', 'nf4');
    return { href: `lm.html#${hash(p)}`, sameModel: true };
  }
  const sameModel = s.model in TRAINABLE && !s.config;
  if (sameModel) p.set('model', TRAINABLE[s.model]);
  p.set('r', s.r);
  p.set('alpha', s.alpha);
  p.set('rslora', s.rslora ? '1' : '0');
  p.set('bias', s.bias);
  if (sameModel && s.targets) p.set('targets', Array.isArray(s.targets) ? s.targets.join(',') : s.targets);
  if (s.layers?.length) p.set('layers', s.layers.join(','));
  if (isFourBit(s.precision)) p.set('base', 'nf4');
  return { href: `train.html#${hash(p)}`, sameModel };
}

// The trainer's settings (the hash's texts) and the loaded model and dataset -> the calculator's link. A model that
// is not a preset (the tiny one, a folder) goes as its config.json, so the counts are that model's.
export function calculatorLink(settings, model, data) {
  const p = new URLSearchParams();
  if (presetOf(settings.model)) p.set('model', presetOf(settings.model));
  else if (model?.config_json) p.set('config', toBase64Url(model.config_json));
  for (const k of ['r', 'alpha', 'bias', 'targets', 'layers']) if (settings[k]) p.set(k, settings[k]);
  p.set('rslora', settings.rslora === '1' || settings.rslora === 'true' ? '1' : '0');
  if (data?.labels?.length) p.set('labels', data.labels.length);
  if (settings.base === 'nf4') p.set('precision', 'nf4-fp32');
  return `index.html#${hash(p)}`;
}
