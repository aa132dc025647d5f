// The daily situation report in the operations room: the same key as the page (this tab's
// sessionStorage), the report drawn by the gateway, printable, and downloadable as PDF or Markdown.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const WORDS = {
    fr: { date: 'Jour', print: 'Imprimer', signin: 'Connectez-vous d’abord sur la page des opérations.',
      failed: 'Rapport indisponible ({detail}).', loading: 'Chargement…' },
    en: { date: 'Day', print: 'Print', signin: 'Sign in on the operations page first.',
      failed: 'Report unavailable ({detail}).', loading: 'Loading…' },
  };
  const key = sessionStorage.getItem('kengele.key');
  const params = new URLSearchParams(location.search);
  let prefs = {};
  try { prefs = JSON.parse(localStorage.getItem('kengele.prefs') || '{}'); } catch { prefs = {}; }
  const state = {
    lang: params.get('lang') === 'en' || (!params.get('lang') && prefs.lang === 'en') ? 'en' : 'fr',
    date: /^\d{4}-\d{2}-\d{2}$/.test(params.get('date') || '') ? params.get('date') : '',
  };
  const w = (k, vars = {}) => WORDS[state.lang][k].replace(/\{(\w+)\}/g, (_, v) => vars[v] ?? '');

  function reportUrl(format, extra = '') {
    const q = new URLSearchParams({ format, lang: state.lang });
    if (state.date) q.set('date', state.date);
    return `/api/v1/reports/daily?${q}${extra}`;
  }
  async function get(format, extra) {
    const res = await fetch(reportUrl(format, extra), { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(typeof body.detail === 'string' ? body.detail : `HTTP ${res.status}`);
    }
    return res;
  }
  async function load() {
    document.documentElement.lang = state.lang;
    $('l-date').textContent = w('date');
    $('print').textContent = w('print');
    $('lang').value = state.lang;
    $('date').value = state.date;
    const q = new URLSearchParams({ lang: state.lang });
    if (state.date) q.set('date', state.date);
    history.replaceState(null, '', `?${q}`);
    if (!key) { $('msg').textContent = w('signin'); return; }
    $('msg').textContent = w('loading');
    try {
      const html = await (await get('html', '&fragment=1')).text();
      $('report').innerHTML = html;   // drawn and escaped by the gateway
      $('msg').textContent = '';
      if (!state.date) $('date').value = $('report').firstElementChild?.dataset.day || '';
    } catch (e) {
      $('msg').textContent = w('failed', { detail: e.message });
    }
  }
  async function download(format) {
    try {
      const res = await get(format);
      const name = (res.headers.get('content-disposition') || '').match(/filename="([^"]+)"/)?.[1];
      const link = document.createElement('a');
      link.href = URL.createObjectURL(await res.blob());
      link.download = name || `sitrep.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (e) {
      $('msg').textContent = w('failed', { detail: e.message });
    }
  }
  $('date').addEventListener('change', (e) => { state.date = e.target.value; load(); });
  $('lang').addEventListener('change', (e) => { state.lang = e.target.value === 'en' ? 'en' : 'fr'; load(); });
  $('print').addEventListener('click', () => window.print());
  $('pdf').addEventListener('click', () => download('pdf'));
  $('md').addEventListener('click', () => download('md'));
  load();
})();
