/* Kengele operations room: live list, map and detail of alerts.
   No framework and no request outside the gateway (the page's CSP allows 'self' only).
   The API key lives in sessionStorage and travels in the Authorization header only. */
'use strict';
(() => {
  const KEY_STORE = 'kengele.key';
  const PREFS = 'kengele.prefs';
  const SEVERITIES = ['critical', 'high', 'medium', 'low'];
  const SEV_RANK = { low: 0, medium: 1, high: 2, critical: 3 };
  // The workflow as the gateway defines it (GET /api/v1/meta, read at sign-in): the statuses,
  // the open ones, from each status the actions that move an alert, the categories. The
  // buttons follow it; the API has the last word (409).
  const W = { statuses: [], open: [], transitions: {}, statusActions: [], categories: [] };
  const KEEP_ALERTS = 1000;   // alerts kept in memory, newest first
  const SHOW_ALERTS = 300;    // rows drawn in the list
  const SVGNS = 'http://www.w3.org/2000/svg';
  const LAKES_EN = { 'Lac Édouard': 'Lake Edward', 'Lac Moero': 'Lake Mweru' };
  const CLUSTER_PX = 22;       // marks closer than this on screen are drawn as one cluster

  const I18N = {
    fr: {
      title: 'Salle des opérations',
      language: 'Langue',
      signout: 'Se déconnecter', report: 'Rapport du jour',
      'signin.title': 'Connexion',
      'signin.help': 'Collez la clé d’API qui vous a été remise. Elle reste dans cet onglet et disparaît à sa fermeture.',
      'signin.key': 'Clé d’API',
      'signin.submit': 'Se connecter',
      'signin.bad': 'Clé refusée : vérifiez-la ou demandez-en une nouvelle.',
      'signin.expired': 'La clé n’est plus acceptée : reconnectez-vous.',
      'signin.failed': 'Passerelle injoignable ({detail}).',
      'role.viewer': 'lecture', 'role.operator': 'opérateur', 'role.admin': 'administrateur',
      'conn.connecting': 'Connexion…', 'conn.live': 'En direct',
      'conn.down': 'Hors ligne, nouvel essai dans {s} s',
      'sound.on': 'Son activé', 'sound.off': 'Son coupé',
      alerts: 'Alertes',
      'filter.severity': 'Gravité', 'filter.status': 'Statut', 'filter.category': 'Catégorie',
      'filter.admin2': 'Territoire',
      'any.severity': 'Toutes gravités', 'any.status': 'Tous statuts', 'any.category': 'Toutes catégories',
      'any.admin2': 'Tous territoires', 'open': 'Ouvertes (à traiter)',
      'atleast': 'Gravité {x} ou plus', 'only': 'Gravité {x}',
      count: '{n} alertes affichées, dont {open} ouvertes',
      'count.one': '1 alerte affichée',
      'count.zero': 'Aucune alerte ne correspond aux filtres.',
      loading: 'Chargement…',
      'sev.critical': 'critique', 'sev.high': 'élevée', 'sev.medium': 'moyenne', 'sev.low': 'faible',
      'st.new': 'nouvelle', 'st.acknowledged': 'prise en charge', 'st.verified': 'vérifiée',
      'st.resolved': 'résolue', 'st.false_alarm': 'fausse alerte',
      'cat.ATTACK': 'Attaque', 'cat.ABDUCTION': 'Enlèvement', 'cat.SEXUAL_VIOLENCE': 'Violences sexuelles',
      'cat.CLASH': 'Affrontements', 'cat.ARSON': 'Incendie', 'cat.LOOTING': 'Pillage',
      'cat.ARMED_PRESENCE': 'Présence armée', 'cat.DISPLACEMENT': 'Déplacement',
      'cat.THREAT': 'Menace', 'cat.OTHER': 'Autre', 'cat.FLASH': 'Appel manqué (flash)',
      'age.now': 'à l’instant',
      'nowhere': 'lieu inconnu',
      'esc.paged': 'alerte envoyée {time}', 'esc.pages': '{n} SMS d’alerte ({ok} reçus)', 'esc.ackBy': 'prise en charge par {who}',
      'esc.assignee': 'assignée à {who}', 'esc.state': 'escalade : {state}',
      'esc.state.active': 'en cours', 'esc.state.stopped': 'arrêtée', 'esc.state.done': 'terminée',
      'esc.state.acknowledged': 'prise en charge', 'esc.state.exhausted': 'sans réponse',
      'esc.nopaging': 'aucun appel (politique)',
      flash: 'ALERTE CRITIQUE {ref} · {cat} · {where}',
      'flash.more': '{n} alertes critiques ouvertes · la plus ancienne : {ref} · {cat} · {where}',
      'chan.down': 'Canal SMS en panne : {list}', 'chan.downMany': 'Canaux SMS en panne : {list}',
      'chan.since': '{name} depuis {at}',
      'chan.zone': 'ZONE {zone} INJOIGNABLE PAR SMS depuis {at} (tous ses canaux en panne) · {n} page(s) en attente',
      'sort.priority': 'Urgentes d’abord', 'sort.newest': 'Plus récentes d’abord',
      'filter.sort': 'Ordre', 'map.cluster': '{n} alertes ici : cliquez pour zoomer',
      close: 'Fermer',
      'd.report': 'Message', 'd.received': 'Reçu', 'd.from': 'Expéditeur', 'd.language': 'Langue',
      'd.messages': 'Messages', 'd.numbers': 'Chiffres', 'd.cap': 'CAP', 'd.score': 'Score',
      'd.assignee': 'Assignée à', 'd.escalation': 'Escalade',
      'n.killed': 'tués', 'n.wounded': 'blessés', 'n.abducted': 'enlevés', 'n.attackers': 'assaillants',
      'd.reasons': 'Raisons du tri', 'd.place': 'Lieu', 'd.admin2': 'Territoire', 'd.admin1': 'Province',
      'd.coords': 'Coordonnées', 'd.found': 'Trouvé', 'd.showmap': 'Voir sur la carte',
      'loc.text': 'nommé dans le message', 'loc.reporter_home': 'lieu habituel du point focal',
      'loc.none': 'non trouvé', 'confidence': 'confiance {p}\u00a0%',
      'd.incident': 'Incident', 'd.incidentline': 'Incident n° {id} ({status}) · rapports : {reports} · sources : {reporters}',
      'inc.open': 'ouvert', 'inc.closed': 'clos',
      'd.others': 'Autres rapports', 'd.noothers': 'Aucun autre rapport.',
      'd.events': 'Historique', 'd.noevents': 'Aucun événement.',
      'd.deliveries': 'Envois', 'd.nodeliveries': 'Aucun envoi.',
      'd.when': 'Quand', 'd.channel': 'Canal', 'd.purpose': 'Objet', 'd.to': 'Destinataire', 'd.status': 'État',
      'd.unavailable': 'Indisponible ({detail}).',
      'd.actions': 'Actions',
      'a.acknowledge': 'Prendre en charge', 'a.verify': 'Confirmer', 'a.resolve': 'Clore (résolue)',
      'a.false_alarm': 'Fausse alerte', 'a.reopen': 'Rouvrir', 'a.assign': 'Assigner', 'a.note': 'Ajouter la note',
      'a.notePlaceholder': 'Note (jointe à l’action, facultative)', 'a.assignPlaceholder': 'Assigner à…',
      'a.noteRequired': 'Écrivez d’abord la note.',
      'a.done': 'Enregistré.',
      'a.conflict': 'Action impossible dans cet état. Possibles : {allowed}.',
      'a.stale': 'L’alerte a changé entre-temps : elle a été rechargée, vérifiez puis recommencez.',
      'a.forbidden': 'Votre clé ne permet pas cette action.',
      'a.failed': 'Échec : {detail}',
      'ev.created': 'reçue', 'ev.acknowledged': 'prise en charge', 'ev.acknowledged_again': 'prise en charge (redite)',
      'ev.verified': 'confirmée', 'ev.resolved': 'résolue', 'ev.false_alarm': 'fausse alerte',
      'ev.reopened': 'rouverte', 'ev.assigned': 'assignée', 'ev.note': 'note',
      'ev.escalation_started': 'escalade lancée', 'ev.escalation_restarted': 'escalade relancée',
      'ev.escalated': 'CLA alertés', 'ev.nobody_paged': 'personne n’a été alerté (aucun de garde)', 'ev.page_fallback': 'envoi de secours', 'ev.repeated': 'signalée à nouveau',
      'ev.severity_raised': 'gravité relevée', 'ev.corroborated': 'corroborée', 'ev.corroborated_by': 'corroborée par un autre rapport',
      'ev.incident_merged': 'incidents fusionnés', 'ev.incident_detached': 'sortie de l’incident',
      'ev.escalation_merged': 'escalade fondue dans une autre', 'ev.escalation_taken_with': 'escalade arrêtée : prise avec un autre rapport',
      'ev.reveal_phone': 'numéro consulté', 'actor.system': 'système',
      'dv.pending': 'en attente', 'dv.sending': 'en cours', 'dv.accepted': 'accepté', 'dv.queued': 'en file',
      'dv.sent': 'envoyé', 'dv.delivered': 'reçu', 'dv.undelivered': 'non remis', 'dv.failed': 'échec',
      'dv.dead': 'abandonné', 'dv.cancelled': 'annulé',
      'pu.page': 'alerte CLA', 'pu.reply': 'réponse', 'pu.taken': 'avis de prise en charge', 'pu.event': 'webhook',
      'pu.receipt': 'accusé de réception',
      'map.fit': 'Tout afficher', 'map.zones': 'territoire (approx.)', 'map.place': 'lieu',
      'map.province': 'province', 'map.road': 'route nationale (schématique)', 'map.sources': 'sources',
      // Humans in the loop: corrections, call-backs, alerts entered by hand.
      'entry.open': 'Saisir une alerte', 'entry.title': 'Alerte reçue par appel, radio ou visite',
      'entry.text': 'Message', 'entry.source': 'Reçue par', 'entry.reporter': 'Point focal (tél. ou n°)',
      'entry.place': 'Lieu', 'entry.category': 'Catégorie', 'entry.severity': 'Gravité',
      'entry.auto': 'selon le tri', 'entry.submit': 'Enregistrer l’alerte', 'entry.done': 'Alerte {ref} enregistrée.',
      'entry.needText': 'Écrivez le message.',
      'src.call': 'appel', 'src.radio': 'radio', 'src.visit': 'visite', 'src.other': 'autre',
      'cb.open': 'Rappels ({n})', 'cb.title': 'À rappeler, les plus anciennes d’abord', 'cb.none': 'Personne à rappeler.',
      'cb.reveal': 'Voir le numéro', 'cb.said': 'Ce que dit le point focal (décrit un appel manqué)',
      'cb.result': 'Résultat', 'cb.submit': 'Enregistrer le rappel', 'cb.detail': 'Détail', 'cb.last': 'dernier rappel : {r}',
      'res.confirmed': 'confirmée', 'res.not_confirmed': 'non confirmée', 'res.unreachable': 'injoignable',
      'c.title': 'Corriger le tri', 'c.keep': '— inchangé —', 'c.place': 'Lieu (nom ou identifiant)',
      'c.summary': 'Résumé', 'c.submit': 'Corriger', 'c.nothing': 'Rien à corriger : choisissez une valeur.',
      'c.original': 'Tri d’origine : {cat} · {sev} · {where}', 'c.fields': 'Corrigé ({fields}) par {by}',
      'd.summary': 'Résumé', 'd.source': 'Saisie à la main', 'd.reliability': 'Fiabilité',
      'rel.line': '{c} confirmées · {f} fausses alertes · {n} non confirmées ({days} j)',
      'ev.corrected': 'corrigée', 'ev.described': 'décrite après rappel', 'ev.incident_moved': 'changée d’incident',
      'ev.verification_not_confirmed': 'non confirmée', 'ev.verification_unreachable': 'point focal injoignable',
      'loc.human': 'donné par un humain',
    },
    en: {
      title: 'Operations room',
      language: 'Language',
      signout: 'Sign out', report: 'Daily report',
      'signin.title': 'Sign in',
      'signin.help': 'Paste the API key you were given. It stays in this tab and is forgotten when the tab closes.',
      'signin.key': 'API key',
      'signin.submit': 'Sign in',
      'signin.bad': 'Key refused: check it or ask for a new one.',
      'signin.expired': 'The key is no longer accepted: sign in again.',
      'signin.failed': 'Gateway unreachable ({detail}).',
      'role.viewer': 'viewer', 'role.operator': 'operator', 'role.admin': 'admin',
      'conn.connecting': 'Connecting…', 'conn.live': 'Live',
      'conn.down': 'Offline, retrying in {s} s',
      'sound.on': 'Sound on', 'sound.off': 'Sound off',
      alerts: 'Alerts',
      'filter.severity': 'Severity', 'filter.status': 'Status', 'filter.category': 'Category',
      'filter.admin2': 'Territoire',
      'any.severity': 'All severities', 'any.status': 'All statuses', 'any.category': 'All categories',
      'any.admin2': 'All territoires', 'open': 'Open (to handle)',
      'atleast': 'Severity {x} or more', 'only': 'Severity {x}',
      count: '{n} alerts shown, {open} open',
      'count.one': '1 alert shown',
      'count.zero': 'No alert matches the filters.',
      loading: 'Loading…',
      'sev.critical': 'critical', 'sev.high': 'high', 'sev.medium': 'medium', 'sev.low': 'low',
      'st.new': 'new', 'st.acknowledged': 'acknowledged', 'st.verified': 'verified',
      'st.resolved': 'resolved', 'st.false_alarm': 'false alarm',
      'cat.ATTACK': 'Attack', 'cat.ABDUCTION': 'Abduction', 'cat.SEXUAL_VIOLENCE': 'Sexual violence',
      'cat.CLASH': 'Clash', 'cat.ARSON': 'Arson', 'cat.LOOTING': 'Looting',
      'cat.ARMED_PRESENCE': 'Armed presence', 'cat.DISPLACEMENT': 'Displacement',
      'cat.THREAT': 'Threat', 'cat.OTHER': 'Other', 'cat.FLASH': 'Missed call (flash)',
      'age.now': 'just now',
      'nowhere': 'place unknown',
      'esc.paged': 'paged {time}', 'esc.pages': 'paged {n}× ({ok} delivered)', 'esc.ackBy': 'acknowledged by {who}',
      'esc.assignee': 'assigned to {who}', 'esc.state': 'escalation: {state}',
      'esc.state.active': 'paging', 'esc.state.stopped': 'stopped', 'esc.state.done': 'done',
      'esc.state.acknowledged': 'acknowledged', 'esc.state.exhausted': 'no answer',
      'esc.nopaging': 'no paging (policy)',
      flash: 'CRITICAL ALERT {ref} · {cat} · {where}',
      'flash.more': '{n} open critical alerts · oldest: {ref} · {cat} · {where}',
      'chan.down': 'SMS channel down: {list}', 'chan.downMany': 'SMS channels down: {list}',
      'chan.since': '{name} since {at}',
      'chan.zone': 'ZONE {zone} UNREACHABLE BY SMS since {at} (all its channels down) · {n} page(s) waiting',
      'sort.priority': 'Most urgent first', 'sort.newest': 'Newest first',
      'filter.sort': 'Order', 'map.cluster': '{n} alerts here: click to zoom in',
      close: 'Close',
      'd.report': 'Message', 'd.received': 'Received', 'd.from': 'From', 'd.language': 'Language',
      'd.messages': 'Messages', 'd.numbers': 'Numbers', 'd.cap': 'CAP', 'd.score': 'Score',
      'd.assignee': 'Assigned to', 'd.escalation': 'Escalation',
      'n.killed': 'killed', 'n.wounded': 'wounded', 'n.abducted': 'abducted', 'n.attackers': 'attackers',
      'd.reasons': 'Triage reasons', 'd.place': 'Place', 'd.admin2': 'Territoire', 'd.admin1': 'Province',
      'd.coords': 'Coordinates', 'd.found': 'Found', 'd.showmap': 'Show on map',
      'loc.text': 'named in the message', 'loc.reporter_home': 'focal point’s home place',
      'loc.none': 'not found', 'confidence': '{p}\u00a0% confidence',
      'd.incident': 'Incident', 'd.incidentline': 'Incident #{id} ({status}) · reports: {reports} · sources: {reporters}',
      'inc.open': 'open', 'inc.closed': 'closed',
      'd.others': 'Other reports', 'd.noothers': 'No other report.',
      'd.events': 'History', 'd.noevents': 'No event.',
      'd.deliveries': 'Deliveries', 'd.nodeliveries': 'No delivery.',
      'd.when': 'When', 'd.channel': 'Channel', 'd.purpose': 'Purpose', 'd.to': 'To', 'd.status': 'Status',
      'd.unavailable': 'Unavailable ({detail}).',
      'd.actions': 'Actions',
      'a.acknowledge': 'Acknowledge', 'a.verify': 'Verify', 'a.resolve': 'Resolve',
      'a.false_alarm': 'False alarm', 'a.reopen': 'Reopen', 'a.assign': 'Assign', 'a.note': 'Add note',
      'a.notePlaceholder': 'Note (attached to the action, optional)', 'a.assignPlaceholder': 'Assign to…',
      'a.noteRequired': 'Write the note first.',
      'a.done': 'Saved.',
      'a.conflict': 'Not possible in this state. Possible: {allowed}.',
      'a.stale': 'The alert changed meanwhile: it was reloaded, check it and try again.',
      'a.forbidden': 'Your key does not allow this action.',
      'a.failed': 'Failed: {detail}',
      'ev.created': 'received', 'ev.acknowledged': 'acknowledged', 'ev.acknowledged_again': 'acknowledged (again)',
      'ev.verified': 'verified', 'ev.resolved': 'resolved', 'ev.false_alarm': 'false alarm',
      'ev.reopened': 'reopened', 'ev.assigned': 'assigned', 'ev.note': 'note',
      'ev.escalation_started': 'escalation started', 'ev.escalation_restarted': 'escalation restarted',
      'ev.escalated': 'liaisons paged', 'ev.nobody_paged': 'nobody paged (nobody on duty)', 'ev.page_fallback': 'fallback page', 'ev.repeated': 'reported again',
      'ev.severity_raised': 'severity raised', 'ev.corroborated': 'corroborated', 'ev.corroborated_by': 'corroborated by another report',
      'ev.incident_merged': 'incidents merged', 'ev.incident_detached': 'moved out of the incident',
      'ev.escalation_merged': 'paging merged into another', 'ev.escalation_taken_with': 'paging stopped: taken with another report',
      'ev.reveal_phone': 'number revealed', 'actor.system': 'system',
      'dv.pending': 'pending', 'dv.sending': 'sending', 'dv.accepted': 'accepted', 'dv.queued': 'queued',
      'dv.sent': 'sent', 'dv.delivered': 'delivered', 'dv.undelivered': 'undelivered', 'dv.failed': 'failed',
      'dv.dead': 'gave up', 'dv.cancelled': 'cancelled',
      'pu.page': 'liaison page', 'pu.reply': 'reply', 'pu.taken': 'taken notice', 'pu.event': 'webhook',
      'pu.receipt': 'receipt',
      'map.fit': 'Show all', 'map.zones': 'territoire (approx.)', 'map.place': 'place',
      'map.province': 'province', 'map.road': 'national road (schematic)', 'map.sources': 'sources',
      // Humans in the loop: corrections, call-backs, alerts entered by hand.
      'entry.open': 'Enter an alert', 'entry.title': 'Alert received by call, radio or visit',
      'entry.text': 'Message', 'entry.source': 'Received by', 'entry.reporter': 'Focal point (phone or id)',
      'entry.place': 'Place', 'entry.category': 'Category', 'entry.severity': 'Severity',
      'entry.auto': 'as triaged', 'entry.submit': 'Save the alert', 'entry.done': 'Alert {ref} saved.',
      'entry.needText': 'Write the message.',
      'src.call': 'call', 'src.radio': 'radio', 'src.visit': 'visit', 'src.other': 'other',
      'cb.open': 'Call-backs ({n})', 'cb.title': 'To call back, oldest first', 'cb.none': 'Nobody to call back.',
      'cb.reveal': 'Show the number', 'cb.said': 'What the focal point says (describes a missed call)',
      'cb.result': 'Result', 'cb.submit': 'Save the call-back', 'cb.detail': 'Detail', 'cb.last': 'last call-back: {r}',
      'res.confirmed': 'confirmed', 'res.not_confirmed': 'not confirmed', 'res.unreachable': 'unreachable',
      'c.title': 'Correct the triage', 'c.keep': '— unchanged —', 'c.place': 'Place (name or id)',
      'c.summary': 'Summary', 'c.submit': 'Correct', 'c.nothing': 'Nothing to correct: pick a value.',
      'c.original': 'Original triage: {cat} · {sev} · {where}', 'c.fields': 'Corrected ({fields}) by {by}',
      'd.summary': 'Summary', 'd.source': 'Entered by hand', 'd.reliability': 'Reliability',
      'rel.line': '{c} confirmed · {f} false alarms · {n} not confirmed ({days} days)',
      'ev.corrected': 'corrected', 'ev.described': 'described after a call-back', 'ev.incident_moved': 'moved to another incident',
      'ev.verification_not_confirmed': 'not confirmed', 'ev.verification_unreachable': 'focal point unreachable',
      'loc.human': 'given by a person',
    },
  };

  // ---- state ------------------------------------------------------------------------------
  const S = {
    key: null, me: null, lang: 'fr', config: { tile_url: '', heartbeat_seconds: 15 },
    alerts: new Map(), places: [], channels: [], zonesCut: [], loaded: false,
    selected: null, detail: null,
    lastEventId: null, epoch: 0, streamCtrl: null, synced: false, downSince: null, lastPoll: 0,
    sound: false, audio: null, unseen: 0, fresh: new Set(),
    filters: { severity: '', status: '', category: '', admin2: '' }, sort: 'priority',
  };
  const $ = (id) => document.getElementById(id);

  // ---- small helpers ----------------------------------------------------------------------
  function t(key, vars) {
    let text = I18N[S.lang][key] ?? I18N.en[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) text = text.replaceAll(`{${k}}`, String(v));
    return text;
  }
  const label = (prefix, value) => {
    const key = `${prefix}.${value}`;
    return I18N[S.lang][key] ?? I18N.en[key] ?? String(value ?? '').replaceAll('_', ' ');
  };

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    setProps(el, props);
    for (const kid of kids.flat()) {
      if (kid != null && kid !== false) el.append(kid.nodeType ? kid : String(kid));
    }
    return el;
  }
  function sv(tag, props, ...kids) {
    const el = document.createElementNS(SVGNS, tag);
    setProps(el, props);
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  }
  function setProps(el, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.setAttribute('class', v);
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
  }

  const time = (iso) => (iso ? new Date(iso) : null);
  function clock(iso) {
    const d = time(iso);
    if (!d || Number.isNaN(d.getTime())) return '';
    const today = new Date().toDateString() === d.toDateString();
    const opts = today ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    return new Intl.DateTimeFormat(S.lang, opts).format(d);
  }
  function age(iso) {
    const d = time(iso);
    if (!d) return '';
    const secs = Math.max(0, (Date.now() - d.getTime()) / 1000);
    if (secs < 45) return t('age.now');
    const rtf = new Intl.RelativeTimeFormat(S.lang, { numeric: 'always', style: 'short' });
    if (secs < 3600) return rtf.format(-Math.round(secs / 60), 'minute');
    if (secs < 86400) return rtf.format(-Math.floor(secs / 3600), 'hour');
    return rtf.format(-Math.floor(secs / 86400), 'day');
  }
  const whoName = (x) => (x && typeof x === 'object' ? (x.name ?? x.id ?? '') : x);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  function where(a) {
    const p = a.place;
    if (!p || !p.name) return t('nowhere');
    return p.admin2 && p.admin2 !== p.name ? `${p.name} (${p.admin2})` : p.name;
  }

  // Triage reasons come from the gateway in English plain words; the page shows them in its
  // language, codes (ATTACK, critical) as the page names them. Unknown forms are shown as is.
  const SEV_WORD = (x) => (x in SEV_RANK ? label('sev', x) : x);
  const CAT_WORD = (x) => (W.categories.includes(x) ? label('cat', x) : x);
  const REASONS = [
    [/^no alert word → OTHER$/, () => ({ fr: `aucun mot d’alerte → ${CAT_WORD('OTHER')}` })],
    [/^(.+) negates (.+)$/, (m) => ({ fr: `${m[1]} annule ${m[2]}` })],
    [/^(.+) → ([A-Z_]+): threat ended$/, (m) => ({ fr: `${m[1]} → ${CAT_WORD(m[2])} : menace terminée`, en: `${m[1]} → ${CAT_WORD(m[2])}: threat ended` })],
    [/^(.+) → (.+) has not happened$/, (m) => ({ fr: `${m[1]} → ${m[2]} n’a pas eu lieu` })],
    [/^(.+) aimed at people$/, (m) => ({ fr: `${m[1]} visant des personnes` })],
    [/^([A-Z_]+) → (critical|high|medium|low)$/, (m) => ({ fr: `${CAT_WORD(m[1])} → gravité ${SEV_WORD(m[2])}`, en: `${CAT_WORD(m[1])} → ${SEV_WORD(m[2])} severity` })],
    [/^(registered focal point|unknown number) → (critical|high|medium|low)$/, (m) => ({
      fr: `${m[1] === 'unknown number' ? 'numéro inconnu' : 'point focal enregistré'} → gravité ${SEV_WORD(m[2])}`,
      en: `${m[1]} → ${SEV_WORD(m[2])} severity` })],
    [/^place: reporter home$/, () => ({ fr: 'lieu : lieu habituel du point focal' })],
    [/^unknown sender → no place$/, () => ({ fr: 'expéditeur inconnu → aucun lieu' })],
    [/^no place named → reporter home$/, () => ({ fr: 'aucun lieu nommé → lieu habituel du point focal' })],
    [/^no place named, unknown sender → no place$/, () => ({ fr: 'aucun lieu nommé, expéditeur inconnu → aucun lieu' })],
    [/^'(.+)' read as a common word, not a place$/, (m) => ({ fr: `« ${m[1]} » lu comme un mot courant, pas un lieu` })],
    [/^'(.+)' \((\d+) letters? off\) → place (.+) \(text\)$/, (m) => ({ fr: `« ${m[1]} » (${m[2]} lettre${m[2] > 1 ? 's' : ''} d’écart) → lieu ${m[3]} (message)` })],
    [/^'(.+)' → place (.+) \(text\)$/, (m) => ({ fr: `« ${m[1]} » → lieu ${m[2]} (message)` })],
    [/^'(.+)' is ambiguous \((.+)\) → (.+?), (.+)$/, (m) => ({ fr: `« ${m[1]} » est ambigu (${m[2]}) → ${m[3]}, ${m[4]}` })],
    [/^also named: (.+); '(.+)' chosen for a ([A-Z_]+) alert$/, (m) => ({ fr: `aussi nommés : ${m[1]} ; « ${m[2]} » retenu pour une alerte ${CAT_WORD(m[3])}`, en: `also named: ${m[1]}; '${m[2]}' chosen for a ${CAT_WORD(m[3])} alert` })],
    [/^'(.+)' → ongoing$/, (m) => ({ fr: `« ${m[1]} » → en cours` })],
    [/^'(.+)' → started earlier, still ongoing$/, (m) => ({ fr: `« ${m[1]} » → commencé plus tôt, toujours en cours` })],
    [/^'(.+)' → past$/, (m) => ({ fr: `« ${m[1]} » → passé` })],
    [/^(.+) → ([A-Z_]+)$/, (m) => ({ fr: `${m[1]} → ${CAT_WORD(m[2])}`, en: `${m[1]} → ${CAT_WORD(m[2])}` })],
  ];
  function reason(r) {
    for (const [re, make] of REASONS) {
      const m = re.exec(r);
      if (m) return make(m)[S.lang] ?? r;
    }
    return r;
  }

  function loadPrefs() {
    try {
      const p = JSON.parse(localStorage.getItem(PREFS) || '{}');
      if (p.lang in I18N) S.lang = p.lang;
      else S.lang = pickLanguage();
      S.sound = !!p.sound;
      Object.assign(S.filters, p.filters || {});
      if (p.sort === 'newest') S.sort = 'newest';
    } catch {
      S.lang = pickLanguage();
    }
  }
  function savePrefs() {
    localStorage.setItem(PREFS, JSON.stringify({ lang: S.lang, sound: S.sound, filters: S.filters, sort: S.sort }));
  }
  function pickLanguage() {
    for (const l of navigator.languages || [navigator.language || '']) {
      const base = String(l).slice(0, 2).toLowerCase();
      if (base in I18N) return base;
    }
    return 'fr';
  }

  // ---- API --------------------------------------------------------------------------------
  class HttpError extends Error {
    constructor(status, body) {
      const detail = body && (typeof body.detail === 'string' ? body.detail : body.error);
      super(detail || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
    }
  }
  async function api(path, { method = 'GET', body, headers = {} } = {}) {
    const init = {
      method, cache: 'no-store',
      headers: { Authorization: `Bearer ${S.key}`, Accept: 'application/json', ...headers },
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const data = (res.headers.get('content-type') || '').includes('json')
      ? await res.json().catch(() => null) : null;
    if (res.status === 401 && S.me) signOut(t('signin.expired'));
    if (!res.ok) throw new HttpError(res.status, data);
    return { data, res };
  }

  // ---- sign-in ----------------------------------------------------------------------------
  async function signIn(key) {
    S.key = key;
    $('signin-button').disabled = true;
    try {
      const [me, meta] = await Promise.all([api('/api/v1/me'), api('/api/v1/meta')]);
      S.me = me.data;
      learnWorkflow(meta.data);
    } catch (e) {
      S.key = null;
      sessionStorage.removeItem(KEY_STORE);
      $('signin-error').textContent = e.status === 401 || e.status === 403
        ? t('signin.bad') : t('signin.failed', { detail: e.message });
      return;
    } finally {
      $('signin-button').disabled = false;
    }
    sessionStorage.setItem(KEY_STORE, key);
    $('key').value = '';
    $('signin-error').textContent = '';
    $('signin').hidden = true;
    $('ops').hidden = false;
    for (const id of ['conn', 'sound', 'who', 'report-link', 'signout']) $(id).hidden = false;
    Humans.signedIn();
    renderChrome();
    renderList();
    Map_.resize();
    const epoch = ++S.epoch;
    loadConfig().then(() => Map_.render());
    loadPlaces();
    loadChannels(epoch);
    streamLoop(epoch);
  }

  function learnWorkflow(meta) {
    Object.assign(W, {
      statuses: meta.statuses, open: meta.open, transitions: meta.transitions,
      categories: meta.categories,
      statusActions: meta.actions.filter((x) => Object.values(meta.transitions).some((moves) => x in moves)),
    });
  }

  function signOut(message) {
    S.epoch++;
    if (S.streamCtrl) S.streamCtrl.abort();
    sessionStorage.removeItem(KEY_STORE);
    Object.assign(S, {
      key: null, me: null, selected: null, detail: null, lastEventId: null, synced: false,
      loaded: false, unseen: 0, alerts: new Map(), places: [], channels: [], zonesCut: [],
    });
    renderChannels();
    Map_.reset();
    $('ops').hidden = true;
    $('signin').hidden = false;
    $('detail').hidden = true;
    $('ops').classList.remove('with-detail');
    $('flash').hidden = true;
    for (const id of ['conn', 'sound', 'who', 'report-link', 'signout']) $(id).hidden = true;
    Humans.signedOut();
    $('signin-error').textContent = message || '';
    document.title = 'Kengele';
    $('key').focus();
  }

  async function loadConfig() {
    try {
      const res = await fetch('config.json', { cache: 'no-store' });
      if (res.ok) Object.assign(S.config, await res.json());
    } catch { /* the defaults do */ }
  }

  async function loadPlaces() {
    try {
      const { data } = await api('/api/v1/places.geojson');
      S.places = (data.features || [])
        .filter((f) => f.geometry && Array.isArray(f.geometry.coordinates))
        .map((f) => ({
          id: f.properties?.id, name: f.properties?.name,
          admin1: f.properties?.admin1, admin2: f.properties?.admin2,
          lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1],
        }));
    } catch {
      S.places = [];   // the map still shows the alerts' own places
    }
    fillFilters();
    Map_.setPlaces(S.places);
  }

  function query() {
    const q = new URLSearchParams({ limit: '100' });   // older ones: narrow the filters
    const f = S.filters;
    if (f.severity) q.set('min_severity', f.severity);
    if (f.status === 'open') q.set('status', W.open.join(','));
    else if (f.status) q.set('status', f.status);
    if (f.category) q.set('category', f.category);
    if (f.admin2) q.set('admin2', f.admin2);
    return q;
  }

  async function loadAlerts() {
    S.lastPoll = Date.now();
    try {
      const { data } = await api(`/api/v1/alerts?${query()}`);
      for (const a of data.items || []) upsert(a);
      if (!S.loaded) cueOpenCritical();
      S.loaded = true;
      trim();
      renderSoon();
    } catch (e) {
      if (e.status !== 401) $('count').textContent = t('d.unavailable', { detail: e.message });
    }
  }

  // ---- alerts in memory -------------------------------------------------------------------
  function isNewer(x, y) {
    if (x.version != null && y.version != null) return x.version > y.version;
    return Date.parse(x.updated_at) > Date.parse(y.updated_at);
  }
  /** Keep the freshest copy of an alert; false when `a` is older than what we have. */
  function upsert(a) {
    const old = S.alerts.get(a.id);
    if (old && isNewer(old, a)) return false;
    S.alerts.set(a.id, a);
    return true;
  }
  const byNewest = (x, y) => Date.parse(y.received_at) - Date.parse(x.received_at) || y.id - x.id;
  function trim() {
    if (S.alerts.size <= KEEP_ALERTS) return;
    const sorted = [...S.alerts.values()].sort(byNewest);
    for (const a of sorted.slice(KEEP_ALERTS)) if (a.id !== S.selected) S.alerts.delete(a.id);
  }
  function matches(a) {
    const f = S.filters;
    if (f.severity && (SEV_RANK[a.severity] ?? 0) < SEV_RANK[f.severity]) return false;
    if (f.status === 'open' && !isOpen(a)) return false;
    if (f.status && f.status !== 'open' && a.status !== f.status) return false;
    if (f.category && a.category !== f.category) return false;
    if (f.admin2 && a.place?.admin2 !== f.admin2) return false;
    return true;
  }
  // Open alerts first, the most severe first and, within a severity, the one waiting longest:
  // what needs an officer now is never below the fold. Closed ones follow, newest first.
  const isOpen = (a) => W.open.includes(a.status);
  const byPriority = (x, y) => (isOpen(y) - isOpen(x))
    || (isOpen(x) ? (SEV_RANK[y.severity] ?? 0) - (SEV_RANK[x.severity] ?? 0)
      || Date.parse(x.received_at) - Date.parse(y.received_at) || x.id - y.id : byNewest(x, y));
  const shown = () => [...S.alerts.values()].filter(matches)
    .sort(S.sort === 'newest' ? byNewest : byPriority);

  // ---- live stream (fetch + a reader: EventSource cannot send the Authorization header) ------
  async function streamLoop(epoch) {
    let failures = 0;
    while (epoch === S.epoch) {
      const ctrl = new AbortController();
      S.streamCtrl = ctrl;
      setConn('connecting');
      let retryAfter = 0;
      try {
        const headers = { Authorization: `Bearer ${S.key}`, Accept: 'text/event-stream' };
        if (S.lastEventId) headers['Last-Event-ID'] = S.lastEventId;
        const res = await fetch('/api/v1/stream', { headers, signal: ctrl.signal, cache: 'no-store' });
        if (res.status === 401) { signOut(t('signin.expired')); return; }
        if (!res.ok || !res.body) {
          retryAfter = Number(res.headers.get('Retry-After')) * 1000 || 0;
          throw new HttpError(res.status, null);
        }
        // Subscribed: what happens from now on comes through the stream. A first connection,
        // or one after a long outage, reads the list once (anything older is there).
        const longOutage = S.downSince && Date.now() - S.downSince > 30 * 60 * 1000;
        if (!S.synced || !S.lastEventId || longOutage) {
          S.synced = true;
          loadAlerts();
        }
        S.downSince = null;
        failures = 0;
        setConn('live');
        await readEvents(res.body, ctrl, epoch);
      } catch (e) {
        if (epoch !== S.epoch) return;
      }
      if (epoch !== S.epoch) return;
      S.downSince = S.downSince || Date.now();
      // Without the stream the list is still refreshed on each attempt (a slow poll).
      if (!S.loaded || Date.now() - S.lastPoll > 15000) loadAlerts();
      failures++;
      const wait = Math.max(retryAfter,
        Math.min(30000, 1000 * 2 ** Math.min(failures - 1, 5)) * (0.75 + Math.random() / 2));
      await waitOrOnline(wait, epoch);
    }
  }

  function waitOrOnline(ms, epoch) {
    return new Promise((resolve) => {
      const end = Date.now() + ms;
      const tick = () => {
        const left = Math.ceil((end - Date.now()) / 1000);
        if (epoch !== S.epoch || left <= 0) return done();
        setConn('down', left);
      };
      const timer = setInterval(tick, 1000);
      const done = () => {
        clearInterval(timer);
        window.removeEventListener('online', done);
        resolve();
      };
      window.addEventListener('online', done);
      tick();
    });
  }

  async function readEvents(body, ctrl, epoch) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    // Three missed heartbeats mean the connection is dead even if TCP has not noticed.
    const silence = (Number(S.config.heartbeat_seconds) || 15) * 3000 + 5000;
    let buffer = '';
    let ev = { event: '', data: [], id: null };
    for (;;) {
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => { ctrl.abort(); reject(new Error('silent stream')); }, silence);
      });
      let chunk;
      try {
        chunk = await Promise.race([reader.read(), timeout]);
      } finally {
        clearTimeout(timer);
      }
      if (chunk.done || epoch !== S.epoch) return;
      buffer += chunk.value;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        let line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (ev.data.length) dispatch(ev.event || 'message', ev.data.join('\n'), ev.id);
          ev = { event: '', data: [], id: null };
          continue;
        }
        if (line.startsWith(':')) continue;   // heartbeat
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') ev.event = value;
        else if (field === 'data') ev.data.push(value);
        else if (field === 'id' && !value.includes('\0')) ev.id = value;
      }
    }
  }

  function dispatch(event, raw, id) {
    if (id != null) S.lastEventId = id;
    let data;
    try {
      data = JSON.parse(raw);
    } catch {
      return;
    }
    if ((event === 'alert.created' || event === 'alert.updated') && data.alert) {
      onAlert(data.alert, event === 'alert.created');
    } else if (event === 'stream.reset') {
      loadAlerts();   // the missed events are no longer kept: read the list again
    } else if (event === 'stream.end') {
      signOut(t('signin.expired'));   // the key was revoked
    } else if ((event === 'channel.down' || event === 'channel.up') && data.channel) {
      onChannel(data.channel);
    } else if (event === 'channel.edited') {
      loadChannels(S.epoch);   // an admin's edit: the health and the zones cut off, read again
    } else if (event === 'incident.updated' && data.incident) {
      const d = S.detail;
      if (d && d.alert && d.alert.incident_id === data.incident.id) {
        d.incident = { ...d.incident, ...data.incident };
        loadDetail(d.id);
      }
    }
  }

  // ---- channels down: a banner while any is (the health at sign-in, then the stream) ------
  async function loadChannels(epoch) {
    try {
      const { data } = await api('/api/v1/channels/health');
      if (epoch !== S.epoch || !Array.isArray(data)) return;
      S.channels = data;
    } catch {
      return;   // the stream's channel events still draw it
    }
    loadUnreachable(epoch);
  }
  /** Zones whose every channel is down, and their pages waiting (read again at each change). */
  async function loadUnreachable(epoch) {
    try {
      const { data } = await api('/api/v1/channels/unreachable');
      if (epoch !== S.epoch || !Array.isArray(data)) return;
      S.zonesCut = data;
    } catch { /* the channels still show */ }
    renderChannels();
  }
  /** A stream event carries the channel as it is now (not as it was when the event was made). */
  function onChannel(c) {
    const old = S.channels.find((x) => x.name === c.name);
    const now = { name: c.name, up: !c.down, down_since: c.down_since, reason: c.reason };
    if (old) Object.assign(old, now);
    else S.channels.push(now);
    renderChannels();
    loadUnreachable(S.epoch);
  }
  function renderChannels() {
    const el = $('channels-down');
    const down = S.channels.filter((c) => !c.up);
    el.hidden = !down.length;
    const list = down.map((c) => t('chan.since', { name: c.name, at: clock(c.down_since) }));
    // A zone is only cut off while one of its channels is down (the list may lag the stream).
    const cut = down.length ? S.zonesCut : [];
    el.replaceChildren(...cut.map((z) => h('div', { class: 'zone-cut',
      text: t('chan.zone', { zone: z.zone, at: clock(z.since), n: z.waiting_pages }) })));
    if (down.length) el.append(h('div', { text: t(down.length > 1 ? 'chan.downMany' : 'chan.down', { list: list.join(' · ') }) }));
  }

  function onAlert(a, created) {
    const old = S.alerts.get(a.id);
    if (!upsert(a)) return;
    trim();
    if (!old) {
      S.fresh.add(a.id);
      setTimeout(() => S.fresh.delete(a.id), 6000);
    }
    const becameCritical = a.severity === 'critical' && (!old || old.severity !== 'critical');
    if (becameCritical && a.status === 'new' && (created || !old)) cue(a);
    renderSoon();
    if (S.selected === a.id && S.detail) {
      S.detail.alert = a;
      renderDetail();
      loadDetail(a.id);
    }
  }

  // ---- critical cue: banner, title, optional sound ----------------------------------------
  /** The banner's words for alert `a` (and `n - 1` more waiting), in the page's language. */
  function flashText(a, n) {
    const vars = { n, ref: a.ref, cat: label('cat', a.category), where: where(a) };
    return n > 1 ? t('flash.more', vars) : t('flash', vars);
  }
  function cue(a, n = 1) {
    const flash = $('flash');
    S.flash = { a, n };
    flash.textContent = flashText(a, n);
    flash.dataset.id = a.id;
    flash.hidden = false;
    clearTimeout(cue.timer);
    cue.timer = setTimeout(() => { flash.hidden = true; }, 120000);
    if (document.hidden || S.selected !== a.id) {
      S.unseen++;
      document.title = `(${S.unseen}) Kengele`;
    }
    if (S.sound) beep();
  }
  /** At sign-in: open critical alerts nobody has taken are announced at once, not only new ones. */
  function cueOpenCritical() {
    const waiting = [...S.alerts.values()]
      .filter((a) => a.severity === 'critical' && a.status === 'new').sort(byPriority);
    if (!waiting.length) return;
    cue(waiting[0], waiting.length);
  }
  function seen() {
    S.unseen = 0;
    document.title = `Kengele · ${t('title')}`;
  }

  function audio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!S.audio) S.audio = new Ctx();
    if (S.audio.state === 'suspended') S.audio.resume();
    return S.audio;
  }
  /** Three short two-tone beeps, synthesised: no sound file to download. */
  function beep(times = 3) {
    const ctx = audio();
    if (!ctx) return;
    const t0 = ctx.currentTime + 0.02;
    for (let i = 0; i < times * 2; i++) {
      const at = t0 + i * 0.18;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'triangle';
      osc.frequency.value = i % 2 ? 660 : 988;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.17);
    }
  }

  // ---- chrome: header, filters, language ---------------------------------------------------
  function setConn(state, seconds) {
    const el = $('conn');
    el.dataset.state = state;
    el.lastElementChild.textContent = state === 'down'
      ? t('conn.down', { s: seconds ?? '…' }) : t(`conn.${state}`);
  }

  function renderChrome() {
    document.documentElement.lang = S.lang;
    $('lang').value = S.lang;
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-title]')) {
      el.title = t(el.dataset.i18nTitle);
      el.setAttribute('aria-label', el.title);
    }
    renderChannels();
    const sound = $('sound');
    sound.replaceChildren(speaker(S.sound), h('span', { class: 'label', text: t(S.sound ? 'sound.on' : 'sound.off') }));
    sound.title = t(S.sound ? 'sound.on' : 'sound.off');
    sound.setAttribute('aria-pressed', String(S.sound));
    const who = $('who');
    who.replaceChildren();
    if (S.me) who.append(h('b', { text: S.me.name || '' }), ` · ${label('role', S.me.role)}`);
    const conn = $('conn');
    if (conn.dataset.state !== 'off' && conn.dataset.state !== 'down') setConn(conn.dataset.state);
    if (!S.unseen) seen();
    fillFilters();
    renderLegend();
  }

  function fillSelect(select, options, value) {
    select.replaceChildren(...options.map(([v, text]) => h('option', { value: v, text })));
    select.value = options.some(([v]) => v === value) ? value : '';
  }
  function fillFilters() {
    const f = S.filters;
    fillSelect($('f-severity'), [['', t('any.severity')],
      ...['medium', 'high'].map((s) => [s, t('atleast', { x: label('sev', s) })]),
      ['critical', t('only', { x: label('sev', 'critical') })]], f.severity);
    fillSelect($('f-status'), [['', t('any.status')], ['open', t('open')],
      ...W.statuses.map((s) => [s, label('st', s)])], f.status);
    fillSelect($('f-category'), [['', t('any.category')],
      ...W.categories.map((c) => [c, label('cat', c)])], f.category);
    const zones = new Set(S.places.map((p) => p.admin2).filter(Boolean));
    for (const a of S.alerts.values()) if (a.place?.admin2) zones.add(a.place.admin2);
    if (f.admin2) zones.add(f.admin2);
    fillSelect($('f-admin2'), [['', t('any.admin2')],
      ...[...zones].sort((x, y) => x.localeCompare(y, S.lang)).map((z) => [z, z])], f.admin2);
    fillSelect($('f-sort'), [['priority', t('sort.priority')], ['newest', t('sort.newest')]], S.sort);
  }

  function speaker(on) {
    const icon = sv('svg', { viewBox: '0 0 24 24', width: 16, height: 16, 'aria-hidden': 'true', class: 'icon' },
      sv('path', { d: 'M3 9v6h4l5 4V5L7 9H3z', fill: 'currentColor' }));
    icon.append(on
      ? sv('path', { d: 'M15.5 8.5a5 5 0 0 1 0 7M18 6a8.5 8.5 0 0 1 0 12', stroke: 'currentColor', fill: 'none', 'stroke-width': 2, 'stroke-linecap': 'round' })
      : sv('path', { d: 'M16 9l6 6M22 9l-6 6', stroke: 'currentColor', fill: 'none', 'stroke-width': 2, 'stroke-linecap': 'round' }));
    return icon;
  }

  function renderLegend() {
    $('legend').replaceChildren(
      ...SEVERITIES.map((s) => h('span', { class: `sev-${s}` }, h('i'), label('sev', s))),
      h('span', {}, h('i', { class: 'lg-place' }), t('map.place')),
      h('span', {}, h('i', { class: 'lg-line lg-province' }), t('map.province')),
      h('span', {}, h('i', { class: 'lg-line lg-territoire' }), t('map.zones')),
      h('span', {}, h('i', { class: 'lg-line lg-road' }), t('map.road')),
      h('span', { class: 'lg-src', id: 'map-sources', title: Map_.sources() }, t('map.sources')),
    );
  }

  // ---- the list ---------------------------------------------------------------------------
  let renderPending = false;
  function renderSoon() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => {
      renderPending = false;
      renderList();
      Map_.render();
      Humans.render();
    });
  }

  function escalation(a) {
    const parts = [];
    const e = a.paging ?? a.escalation;
    if (e && typeof e === 'object') {
      // Paging that ran every step while the alert is still new: nobody answered.
      const state = e.state === 'done' && a.status === 'new' ? 'exhausted' : e.state;
      // A policy that pages nobody (low alerts: webhooks only) is not a silence.
      if (!e.pages && !e.acknowledged_by && e.state !== 'active') parts.push(t('esc.nopaging'));
      else if (!e.acknowledged_by && state) parts.push(t('esc.state', { state: label('esc.state', state) }));
      if (e.paged_at) parts.push(t('esc.paged', { time: clock(e.paged_at) }));
      if (e.pages) parts.push(t('esc.pages', { n: e.pages, ok: e.pages_delivered ?? 0 }));
      if (e.acknowledged_by) parts.push(t('esc.ackBy', { who: whoName(e.acknowledged_by) }));
    }
    if (a.assignee) parts.push(t('esc.assignee', { who: a.assignee }));
    return parts.join(' · ');
  }

  function renderList() {
    const list = $('alerts');
    const focused = document.activeElement?.dataset?.id;
    const items = shown();
    const open = items.filter(isOpen).length;
    $('count').textContent = !S.loaded ? t('loading')
      : items.length === 0 ? t('count.zero')
        : items.length === 1 ? t('count.one') : t('count', { n: items.length, open });
    list.replaceChildren(...items.slice(0, SHOW_ALERTS).map((a) => {
      const esc = escalation(a);
      const classes = ['alert', `sev-${a.severity}`];
      if (a.id === S.selected) classes.push('selected');
      if (S.fresh.has(a.id)) classes.push('fresh');
      if (!isOpen(a)) classes.push('closed');
      return h('li', {}, h('button', {
        type: 'button', class: classes.join(' '), 'data-id': a.id, 'data-ref': a.ref,
        'data-status': a.status, onclick: () => openDetail(a.id),
      },
      h('div', { class: 'row' },
        h('span', { class: 'ref', text: a.ref }),
        h('span', { class: `badge sev sev-${a.severity}`, text: label('sev', a.severity) }),
        h('span', { class: 'cat', text: label('cat', a.category) }),
        h('span', { class: `badge st st-${a.status}`, text: label('st', a.status) })),
      h('div', { class: 'row' },
        h('span', { class: 'where', text: where(a) }),
        h('span', { class: 'age', 'data-at': a.received_at, title: clock(a.received_at), text: age(a.received_at) })),
      h('div', { class: 'body', text: a.body || '' }),
      esc && h('div', { class: 'esc', text: esc })));
    }));
    if (focused) list.querySelector(`[data-id="${CSS.escape(focused)}"]`)?.focus();
  }

  function tickAges() {
    for (const el of document.querySelectorAll('[data-at]')) el.textContent = age(el.dataset.at);
  }

  // ---- the detail panel -------------------------------------------------------------------
  function openDetail(id) {
    id = Number(id);
    const alert = S.alerts.get(id);
    S.selected = id;
    S.detail = { id, alert, full: null, version: alert?.version, events: null, deliveries: null,
      incident: null, others: null, msg: null, busy: false };
    $('detail').hidden = false;
    $('ops').classList.add('with-detail');
    if ($('flash').dataset.id === String(id)) { $('flash').hidden = true; seen(); }
    renderDetail();
    renderSoon();
    Map_.resize();
    if (alert?.place && Number.isFinite(alert.place.lat) && Number.isFinite(alert.place.lon)) {
      Map_.focus(alert.place.lon, alert.place.lat);
    }
    loadDetail(id);
  }

  function closeDetail() {
    S.selected = null;
    S.detail = null;
    $('detail').hidden = true;
    $('ops').classList.remove('with-detail');
    renderSoon();
    Map_.resize();
  }

  const loading = new Map();   // alert id -> {again}: one load at a time, one more if asked meanwhile
  async function loadDetail(id) {
    if (loading.has(id)) { loading.get(id).again = true; return; }
    const slot = { again: false };
    loading.set(id, slot);
    try {
      do {
        slot.again = false;
        await fetchDetail(id);
      } while (slot.again && S.selected === id);
    } finally {
      loading.delete(id);
    }
  }

  async function fetchDetail(id) {
    const d = () => (S.detail && S.detail.id === id ? S.detail : null);
    const [alertR, delivR] = await Promise.allSettled([
      api(`/api/v1/alerts/${id}`),
      api(`/api/v1/deliveries?alert_id=${id}&limit=50`),
    ]);
    if (!d()) return;
    if (alertR.status === 'fulfilled') {
      const { data, res } = alertR.value;
      const etag = (res.headers.get('ETag') || '').replace(/^W\//, '').replaceAll('"', '');
      upsert(data);
      d().alert = data;
      d().events = data.events || [];
      d().version = data.version ?? (etag ? Number(etag) : undefined);
    } else {
      d().msg = { bad: true, text: t('d.unavailable', { detail: alertR.reason.message }) };
    }
    d().deliveries = delivR.status === 'fulfilled' ? delivR.value.data.items || []
      : { error: delivR.reason.message };
    const incidentId = d().alert?.incident_id;
    if (incidentId != null) {
      try {
        const { data } = await api(`/api/v1/incidents/${incidentId}`);
        if (!d()) return;
        d().incident = data;
        for (const other of data.alerts || []) if (other.id !== id) upsert(other);
      } catch (e) {
        if (d()) d().incident = { id: incidentId, error: e.message };
      }
    }
    renderDetail();
    renderSoon();
  }

  function section(title, ...content) {
    // A part left out (null or false) adds nothing: appended as is, it would read "null".
    return [h('h3', { text: title }), ...content.flat().filter((x) => x != null && x !== false)];
  }
  function dl(pairs) {
    return h('dl', {}, pairs.filter(([, v]) => v != null && v !== '' && v !== false)
      .flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
  }

  function renderDetail() {
    const box = $('detail');
    const d = S.detail;
    if (!d) return;
    const a = d.alert;
    if (!a) { box.replaceChildren(h('p', { class: 'muted', text: t('loading') })); return; }
    const scroll = box.scrollTop;
    // A stream update must not steal the note being typed.
    const active = document.activeElement;
    const keep = active && box.contains(active) && active.id
      ? { id: active.id, start: active.selectionStart, end: active.selectionEnd } : null;
    const numbers = Object.entries(a.numbers || {}).filter(([, v]) => v != null)
      .map(([k, v]) => `${v} ${t(`n.${k}`)}`).join(', ');
    const p = a.place;
    const esc = escalation(a);
    const nodes = [
      h('h2', { class: `sev-${a.severity}` },
        h('span', { class: 'ref', text: a.ref }),
        h('span', { class: `badge sev sev-${a.severity}`, text: label('sev', a.severity) }),
        h('span', { class: `badge st st-${a.status}`, id: 'detail-status', 'data-status': a.status, text: label('st', a.status) }),
        h('button', { class: 'close', type: 'button', title: t('close'), 'aria-label': t('close'), onclick: closeDetail, text: '×' })),
      h('div', { class: 'meta', text: `${label('cat', a.category)} · ${where(a)} · ${clock(a.received_at)} (${age(a.received_at)})` }),
      h('blockquote', { class: `sev-${a.severity}`, text: a.body || '' }),
    ];
    if (esc) nodes.push(h('div', { class: 'meta', text: esc }));
    if (S.me && (S.me.role === 'operator' || S.me.role === 'admin')) nodes.push(...actions(a, d), ...Humans.correction(a, d));
    nodes.push(...Humans.facts(a));
    nodes.push(...section(t('d.report'), dl([
      [t('d.received'), clock(a.received_at)],
      [t('d.from'), a.from_phone],
      [t('d.language'), a.language],
      [t('d.messages'), a.message_count > 1 ? String(a.message_count) : null],
      [t('d.numbers'), numbers || null],
      [t('d.assignee'), a.assignee],
      [t('d.cap'), a.cap ? `${a.cap.urgency} / ${a.cap.severity} / ${a.cap.certainty}` : null],
      [t('d.score'), a.score != null ? String(Math.round(Number(a.score))) : null],
    ])));
    nodes.push(...section(t('d.reasons'),
      h('ul', { class: 'plain reasons' }, (a.reasons || []).map((r) => h('li', { text: reason(r) })))));
    nodes.push(...section(t('d.place'), dl([
      [t('d.place'), p?.name || t('nowhere')],
      [t('d.admin2'), p?.admin2],
      [t('d.admin1'), p?.admin1],
      [t('d.coords'), p && p.lat != null ? `${p.lat.toFixed(4)}, ${p.lon.toFixed(4)}` : null],
      [t('d.found'), `${label('loc', a.location_source)}${a.location_confidence != null && a.location_source !== 'none'
        ? ` · ${t('confidence', { p: Math.round(a.location_confidence * 100) })}` : ''}`],
    ]), p && p.lat != null && h('button', {
      class: 'linklike', type: 'button', text: t('d.showmap'), onclick: () => Map_.focus(p.lon, p.lat),
    })));
    if (a.incident_id != null) nodes.push(...section(t('d.incident'), incident(a, d)));
    nodes.push(...section(t('d.events'), events(d)));
    nodes.push(...section(t('d.deliveries'), deliveries(d)));
    box.replaceChildren(...nodes);
    box.scrollTop = scroll;
    const again = keep && document.getElementById(keep.id);
    if (again) {
      again.focus();
      if (keep.start != null && again.setSelectionRange) again.setSelectionRange(keep.start, keep.end);
    }
  }

  function actions(a, d) {
    const msg = h('div', { class: `msg ${d.msg ? (d.msg.bad ? 'bad' : 'good') : ''}`, role: 'status', text: d.msg?.text || '' });
    const note = h('textarea', { id: 'action-note', placeholder: t('a.notePlaceholder'), maxlength: 2000 });
    note.value = d.noteDraft || '';
    note.addEventListener('input', () => { d.noteDraft = note.value; });
    const assignee = h('input', { id: 'action-assignee', placeholder: t('a.assignPlaceholder'), maxlength: 100 });
    assignee.value = d.assigneeDraft ?? a.assignee ?? '';
    assignee.addEventListener('input', () => { d.assigneeDraft = assignee.value; });
    const button = (action, cls) => h('button', {
      type: 'button', class: cls, 'data-action': action, text: t(`a.${action}`),
      disabled: d.busy || (W.statusActions.includes(action) && !(action in (W.transitions[a.status] || {}))),
      onclick: () => act(action),
    });
    return section(t('d.actions'),
      h('div', { class: 'actions' }, W.statusActions.map((x) => button(x, x === 'acknowledge' && a.status === 'new' ? 'go' : ''))),
      h('div', { class: 'actionform' }, note, h('div', { class: 'actions' }, button('note')),
        h('div', { class: 'assign' }, assignee, button('assign'))),
      msg);
  }

  async function act(action, extra = {}) {
    const d = S.detail;
    if (!d || !d.alert || d.busy) return false;
    const note = (d.noteDraft || '').trim();
    if (action === 'note' && !note) { d.msg = { bad: true, text: t('a.noteRequired') }; renderDetail(); return false; }
    const body = { action, ...extra };
    let ok = false;
    if (note) body.note = note;
    if (action === 'assign') body.assignee = (d.assigneeDraft ?? d.alert.assignee ?? '').trim();
    const headers = {};
    const version = d.version ?? d.alert.version;
    if (version != null) headers['If-Match'] = `"${version}"`;
    d.busy = true;
    d.msg = null;
    renderDetail();
    try {
      const { data } = await api(`/api/v1/alerts/${d.id}/actions`, { method: 'POST', body, headers });
      if (data && data.id === d.id) {
        upsert(data);
        d.alert = data;
        d.version = data.version ?? d.version;
      }
      d.noteDraft = '';
      d.assigneeDraft = undefined;
      d.msg = { bad: false, text: t('a.done') };
      ok = true;
    } catch (e) {
      const allowed = (e.body?.allowed || []).map((x) => t(`a.${x}`)).join(', ') || '—';
      d.msg = { bad: true, text: e.status === 409 ? t('a.conflict', { allowed })
        : e.status === 412 ? t('a.stale')
          : e.status === 403 ? t('a.forbidden') : t('a.failed', { detail: e.message }) };
    } finally {
      d.busy = false;
    }
    if (S.detail === d) {
      renderDetail();
      renderSoon();
      loadDetail(d.id);
    }
    return ok;
  }

  function incident(a, d) {
    const inc = d.incident;
    const out = [];
    if (inc && !inc.error) {
      out.push(h('p', { text: t('d.incidentline', {
        id: inc.id, reports: inc.report_count ?? '?', reporters: inc.reporter_count ?? '?',
        status: label('inc', inc.status ?? '') }) }));
    } else if (inc?.error) {
      out.push(h('p', { class: 'muted', text: t('d.unavailable', { detail: inc.error }) }));
    }
    const others = (inc?.alerts || [...S.alerts.values()].filter((x) => x.incident_id === a.incident_id))
      .filter((x) => x.id !== a.id).sort(byNewest);
    if (others.length) out.push(h('div', { class: 'muted', text: t('d.others') }));
    out.push(others.length ? h('ul', { class: 'plain others' }, others.map((x) => h('li', {},
      h('button', { class: 'linklike', type: 'button', onclick: () => openDetail(x.id),
        text: `${x.ref} · ${label('sev', x.severity)} · ${clock(x.received_at)} · ${(x.body || '').slice(0, 60)}` }))))
      : h('p', { class: 'muted', text: t('d.noothers') }));
    return out;
  }

  function events(d) {
    if (d.events == null) return h('p', { class: 'muted', text: t('loading') });
    if (!d.events.length) return h('p', { class: 'muted', text: t('d.noevents') });
    return h('ol', { class: 'events', id: 'events' }, d.events.map((e) => {
      const change = e.from_status || e.to_status
        ? ` (${e.from_status ? label('st', e.from_status) : '∅'} → ${e.to_status ? label('st', e.to_status) : '∅'})` : '';
      return h('li', {},
        h('span', { class: 'when', text: `${clock(e.at)} · ` }),
        h('b', { text: label('ev', e.action) }), change,
        h('span', { class: 'muted', text: ` — ${label('actor', e.actor || '')}` }),
        e.note && h('span', { class: 'note', text: e.note }));
    }));
  }

  function deliveries(d) {
    const list = d.deliveries;
    if (list == null) return h('p', { class: 'muted', text: t('loading') });
    if (list.error) return h('p', { class: 'muted', text: t('d.unavailable', { detail: list.error }) });
    if (!list.length) return h('p', { class: 'muted', text: t('d.nodeliveries') });
    return h('table', { class: 'deliv' },
      h('thead', {}, h('tr', {}, [t('d.when'), t('d.channel'), t('d.purpose'), t('d.to'), t('d.status')]
        .map((x) => h('th', { text: x })))),
      h('tbody', {}, list.map((x) => h('tr', {},
        h('td', { text: clock(x.sent_at || x.created_at) }),
        h('td', { text: x.channel === 'sms' ? 'SMS' : x.channel }),
        h('td', { text: label('pu', x.purpose) }),
        h('td', { text: x.recipient }),
        h('td', { class: `dv dv-${x.status}`, title: x.last_error || null,
          text: x.provider_status && x.provider_status !== x.status
            ? `${label('dv', x.status)} (${label('dv', x.provider_status)})` : label('dv', x.status) })))));
  }

  // ---- the map: places and alerts drawn in SVG from the gateway's own data -----------------
  // Web Mercator in degrees: close to equirectangular at these latitudes, and lines up with
  // a tile layer when an office sets one.
  const Map_ = (() => {
    const M = { w: 0, h: 0, k: 0, cx: 0, cy: 0, fitK: 0, userMoved: false, places: [], hulls: [],
      land: { lakes: [], borders: [], rivers: [], provinces: [], provinceNames: [], territoires: [], roads: [] },
      source: '' };
    const mercY = (lat) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)) * 180 / Math.PI;
    const proj = (lon, lat) => [lon, -mercY(lat)];
    const screen = ([x, y]) => [(x - M.cx) * M.k + M.w / 2, (y - M.cy) * M.k + M.h / 2];
    const svg = () => $('map');

    function hull(points) {
      const pts = [...points].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
      if (pts.length < 3) return pts;
      const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
      const lower = [];
      for (const p of pts) {
        while (lower.length >= 2 && cross(lower.at(-2), lower.at(-1), p) <= 0) lower.pop();
        lower.push(p);
      }
      const upper = [];
      for (const p of pts.reverse()) {
        while (upper.length >= 2 && cross(upper.at(-2), upper.at(-1), p) <= 0) upper.pop();
        upper.push(p);
      }
      return lower.slice(0, -1).concat(upper.slice(0, -1));
    }

    function setPlaces(places) {
      M.places = places.filter((p) => Number.isFinite(p.lon) && Number.isFinite(p.lat))
        .map((p) => ({ ...p, xy: proj(p.lon, p.lat) }));
      const zones = new Map();
      for (const p of M.places) {
        if (!p.admin2) continue;
        if (!zones.has(p.admin2)) zones.set(p.admin2, []);
        zones.get(p.admin2).push(p.xy);
      }
      M.hulls = [...zones].map(([name, pts]) => ({
        name, ring: hull(pts),
        at: [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length],
      }));
      if (!M.userMoved) fit();
      render();
    }

    /** Landmarks shipped with the gateway (landmarks.json), projected once: lakes, borders,
     * rivers, provinces, territoires (approximate) and main roads (schematic). */
    async function loadLandmarks() {
      try {
        const res = await fetch('landmarks.json', { cache: 'default' });
        if (!res.ok) return;
        const data = await res.json();
        const line = (pts) => pts.map(([lon, lat]) => proj(lon, lat));
        M.land = {
          lakes: (data.lakes || []).map((l) => {
            const ring = line(l.ring);
            const at = [ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length];
            return { name: l.name, ring, at };
          }),
          borders: (data.borders || []).map(line),
          rivers: (data.rivers || []).map(line),
          provinces: (data.provinces?.lines || []).map(line),
          provinceNames: (data.provinces?.labels || []).map((p) => ({ name: p.name, at: proj(...p.at) })),
          territoires: (data.territoires || []).map(line),
          roads: (data.roads || []).map((r) => ({ name: r.name, via: r.via || [], line: line(r.line) })),
        };
        M.source = data.source || '';
        const src = $('map-sources');
        if (src) src.title = M.source;
        render();
      } catch {
        // The map still shows places and alerts without its landmarks.
      }
    }
    const lakeName = (name) => (S.lang === 'en' ? LAKES_EN[name] || name.replace(/^Lac /, 'Lake ') : name);
    const pathOf = (pts, close) => `M${pts.map((p) => screen(p).map((v) => v.toFixed(1)).join(',')).join('L')}${close ? 'Z' : ''}`;

    function located() {
      return shown().filter((a) => a.place && Number.isFinite(a.place.lat) && Number.isFinite(a.place.lon));
    }

    // The gazetteer's few far-away entries (a Kinshasa commune...) would shrink the region to
    // a corner: places count from their 2nd to 98th percentile, alerts all count.
    function spread(values, lo, hi) {
      if (!values.length) return [Infinity, -Infinity];
      const sorted = [...values].sort((p, q) => p - q);
      const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      return sorted.length >= 20 ? [at(lo), at(hi)] : [sorted[0], sorted.at(-1)];
    }
    function fit() {
      let [x0, x1] = spread(M.places.map((p) => p.xy[0]), 0.02, 0.98);
      let [y0, y1] = spread(M.places.map((p) => p.xy[1]), 0.02, 0.98);
      for (const a of located()) {
        const [x, y] = proj(a.place.lon, a.place.lat);
        [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
      }
      if (!Number.isFinite(x0)) [x0, y0, x1, y1] = [27, -mercY(2), 30.5, -mercY(-4)];   // eastern DR Congo
      const dx = Math.max(x1 - x0, 0.2);
      const dy = Math.max(y1 - y0, 0.2);
      M.cx = (x0 + x1) / 2;
      M.cy = (y0 + y1) / 2;
      M.k = M.w && M.h ? Math.min((M.w - 60) / dx, (M.h - 60) / dy) : 100;
      M.fitK = M.k;
    }

    function resize() {
      const el = svg();
      if (!el) return;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) return;
      M.w = r.width;
      M.h = r.height;
      if (!M.userMoved) fit();
      render();
    }

    function tiles(layer) {
      const url = S.config.tile_url;
      if (!url) return;
      const z = Math.max(0, Math.min(18, Math.round(Math.log2((M.k * 360) / 256))));
      const n = 2 ** z;
      const size = 360 / n;
      const wx0 = M.cx - M.w / 2 / M.k;
      const wy0 = M.cy - M.h / 2 / M.k;
      const tx0 = Math.max(0, Math.floor((wx0 + 180) / size));
      const ty0 = Math.max(0, Math.floor((wy0 + 180) / size));
      const tx1 = Math.min(n - 1, Math.floor((wx0 + M.w / M.k + 180) / size));
      const ty1 = Math.min(n - 1, Math.floor((wy0 + M.h / M.k + 180) / size));
      if ((tx1 - tx0 + 1) * (ty1 - ty0 + 1) > 100) return;
      for (let x = tx0; x <= tx1; x++) {
        for (let y = ty0; y <= ty1; y++) {
          const [sx, sy] = screen([x * size - 180, y * size - 180]);
          const href = url.replace('{z}', z).replace('{x}', x).replace('{y}', y).replace('{s}', 'abc'[(x + y) % 3]);
          layer.append(sv('image', { href, x: sx, y: sy, width: size * M.k + 0.5, height: size * M.k + 0.5, preserveAspectRatio: 'none' }));
        }
      }
    }

    function scaleBar(layer) {
      const latC = -(Math.atan(Math.sinh((-M.cy * Math.PI) / 180)) * 180) / Math.PI;
      const kmPerPx = (111.32 * Math.cos((latC * Math.PI) / 180)) / M.k;
      const nice = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
      const km = nice.find((v) => v / kmPerPx >= 70) || 1000;
      const px = km / kmPerPx;
      const x = 16;   // top left: the legend, which grows with the landmarks, is at the bottom
      const y = 22;
      layer.append(sv('g', { class: 'scale' },
        sv('line', { x1: x, y1: y, x2: x + px, y2: y }),
        sv('line', { x1: x, y1: y - 4, x2: x, y2: y + 1 }),
        sv('line', { x1: x + px, y1: y - 4, x2: x + px, y2: y + 1 }),
        Object.assign(sv('text', { x: x + px / 2, y: y - 6, 'text-anchor': 'middle' }), { textContent: `${km} km` })));
    }

    const text = (props, content) => Object.assign(sv('text', props), { textContent: content });

    /** A national road: its schematic line, and its number where there is room along it. */
    function roadOf(layer, road, labels) {
      const path = sv('path', { class: 'road', d: pathOf(road.line, false) }, sv('title'));
      path.firstChild.textContent = `${road.name}: ${road.via.join(' – ')} (${t('map.road')})`;
      layer.append(path);
      const pts = road.line.map(screen);
      const steps = pts.slice(1).map((p, i) => Math.hypot(p[0] - pts[i][0], p[1] - pts[i][1]));
      const total = steps.reduce((a, b) => a + b, 0);
      if (total < 60) return;
      const along = (f) => {   // the point at a fraction of the road's length on screen
        let left = f * total;
        for (let i = 0; i < steps.length; i++) {
          if (left <= steps[i]) {
            const k = steps[i] ? left / steps[i] : 0;
            return [pts[i][0] + (pts[i + 1][0] - pts[i][0]) * k, pts[i][1] + (pts[i + 1][1] - pts[i][1]) * k + 4];
          }
          left -= steps[i];
        }
        return pts.at(-1);
      };
      const tries = [0.5, 0.35, 0.65, 0.2, 0.8].map(along)
        .filter(([x, y]) => x > 0 && y > 0 && x < M.w && y < M.h);
      if (tries.length) labels.push([1.5, 'road-label', ...tries[0], road.name, 'middle', tries]);
    }

    function render() {
      const el = svg();
      if (!el || !M.w) return;
      const layers = {
        tiles: sv('g'), land: sv('g'), zones: sv('g'), places: sv('g'), labels: sv('g'), alerts: sv('g'), top: sv('g'),
      };
      tiles(layers.tiles);
      el.classList.toggle('with-tiles', !!S.config.tile_url);
      const labels = [];   // [priority, class, x, y, text, anchor, [[x, y], ...] to try (optional)]
      if (!S.config.tile_url) {
        for (const r of M.land.rivers) layers.land.append(sv('path', { class: 'river', d: pathOf(r, false) }));
        for (const lake of M.land.lakes) {
          layers.land.append(sv('path', { class: 'lake', d: pathOf(lake.ring, true) }));
          if (lake.name) {
            const [x, y] = screen(lake.at);
            labels.push([2.5, 'lake-label', x, y, lakeName(lake.name), 'middle']);
          }
        }
        for (const line of M.land.territoires) layers.land.append(sv('path', { class: 'territoire', d: pathOf(line, false) }));
        for (const line of M.land.provinces) layers.land.append(sv('path', { class: 'province', d: pathOf(line, false) }));
        for (const b of M.land.borders) layers.land.append(sv('path', { class: 'border', d: pathOf(b, false) }));
        for (const p of M.land.provinceNames) {
          const [x, y] = screen(p.at);
          // Beside a lake's or a town's name, a province's moves a little up, down or aside.
          const tries = [[0, 0], [0, -16], [0, 16], [-40, 0], [40, 0], [0, -32], [0, 32]];
          labels.push([2.2, 'province-label', x, y, p.name, 'middle', tries.map(([dx, dy]) => [x + dx, y + dy])]);
        }
        for (const road of M.land.roads) roadOf(layers.land, road, labels);
      }
      const soft = M.land.territoires.length ? ' soft' : '';   // the territoire lines say where they end
      for (const z of M.hulls) {
        if (z.ring.length >= 3) {
          const d = `M${z.ring.map((p) => screen(p).map((v) => v.toFixed(1)).join(',')).join('L')}Z`;
          layers.zones.append(sv('path', { class: `hull${soft}`, d }));
        }
        const [x, y] = screen(z.at);
        labels.push([2, 'hull-label', x, y, z.name, 'middle']);
      }
      const inView = ([x, y]) => x > -20 && y > -20 && x < M.w + 20 && y < M.h + 20;
      const visible = M.places.map((p) => [p, screen(p.xy)]).filter(([, s]) => inView(s));
      for (const [p, [x, y]] of visible) {
        const dot = sv('circle', { class: 'place', cx: x, cy: y, r: 2.5 }, sv('title'));
        dot.firstChild.textContent = [p.name, p.admin2].filter(Boolean).join(' — ');
        layers.places.append(dot);
        labels.push([1, 'place-label', x + 5, y + 4, p.name, 'start']);
      }
      // One mark per place: colour of its most severe alert (open ones first), size by count.
      const groups = new Map();
      for (const a of located()) {
        const key = `${a.place.lon.toFixed(4)},${a.place.lat.toFixed(4)}`;
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(a);
      }
      const rank = (a) => (isOpen(a) ? 10 : 0) + (SEV_RANK[a.severity] ?? 0);
      const marks = [...groups.values()].map((list) => {
        list.sort((x, y) => rank(y) - rank(x) || byNewest(x, y));
        return list;
      }).sort((x, y) => rank(x[0]) - rank(y[0]));
      // Marks closer than a finger's width at this zoom are one cluster with their count:
      // the most severe open alert gives its colour; a click zooms in to tell them apart.
      const clusters = [];
      for (const list of [...marks].reverse()) {
        const [x, y] = screen(proj(list[0].place.lon, list[0].place.lat));
        if (!inView([x, y])) continue;
        const near = clusters.find((c) => Math.hypot(c.x - x, c.y - y) < CLUSTER_PX);
        if (near) near.lists.push(list);
        else clusters.push({ x, y, lists: [list] });
      }
      const obstacles = [];
      for (const c of clusters.reverse()) {
        const all = c.lists.flat();
        const top = c.lists[0][0];
        const { x, y } = c;
        const r = 6 + 2.2 * Math.sqrt(all.length - 1);
        const selected = all.some((a) => a.id === S.selected);
        const open = isOpen(top);
        const several = c.lists.length > 1;
        const cls = `mark sev-${top.severity}${open ? '' : ' closed'}${selected ? ' selected' : ''}${several ? ' cluster' : ''}`;
        const mark = sv('circle', {
          class: cls, cx: x, cy: y, r, 'data-id': top.id, 'data-count': all.length,
        }, sv('title'));
        const lines = all.slice(0, 8)
          .map((a) => `${a.ref} · ${label('sev', a.severity)} · ${label('cat', a.category)} · ${label('st', a.status)}`);
        if (several) lines.unshift(t('map.cluster', { n: all.length }));
        mark.firstChild.textContent = lines.join('\n') + (all.length > 8 ? '\n…' : '');
        mark.addEventListener('click', () => {
          if (M.moved) return;
          if (several) { zoomAt(3, x, y); return; }
          const i = all.findIndex((a) => a.id === S.selected);
          openDetail(all[(i + 1) % all.length].id);
        });
        layers.alerts.append(mark);
        if (all.length > 1) {
          layers.alerts.append(text({ class: 'mark-count', x, y: y + 4, 'text-anchor': 'middle' }, String(all.length)));
        }
        if (open && top.severity === 'critical' && top.status === 'new') {
          layers.top.append(sv('circle', { class: 'ring', cx: x, cy: y, r: r + 5 }));
        }
        obstacles.push([x - r, y - r, x + r, y + r]);
        const name = top.place.name || '';
        labels.push([3, 'place-label alert-label', x + r + 3, y + 4, several ? `${name} +${c.lists.length - 1}` : name, 'start']);
      }
      placeLabels(layers.labels, labels, obstacles);
      scaleBar(layers.top);
      el.dataset.zoom = (M.k / (M.fitK || M.k)).toFixed(2);
      el.replaceChildren(...Object.values(layers));
    }

    // Labels are measured in the font the style sheet gives them (a guess per letter let long
    // names run into their neighbours).
    const measure = document.createElement('canvas').getContext('2d');
    const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif';
    function textWidth(cls, content) {
      const hull = cls === 'hull-label';
      const shown = hull ? content.toUpperCase() : content;
      if (!measure) return shown.length * (hull ? 8.2 : 6.3);
      const bold = hull || cls.includes('alert-label') || cls === 'province-label' || cls === 'road-label';
      measure.font = (bold ? '600 ' : '') + FONT;
      // letter-spacing of the territoire (.08em) and province (.04em) names, the 3px halo
      const spacing = hull ? 0.88 : cls === 'province-label' ? 0.44 : 0;
      return measure.measureText(shown).width + shown.length * spacing + 3;
    }

    /** Draw labels by priority, leaving out any that would overlap one already drawn or a mark. */
    function placeLabels(layer, labels, obstacles) {
      const taken = [...obstacles];
      labels.sort((p, q) => q[0] - p[0]);
      for (const [, cls, x0, y0, content, anchor, tries] of labels) {
        if (!content) continue;
        const w = textWidth(cls, content);
        // The first of its places (one, or a few to try) where it hides nothing.
        for (const [x, y] of tries || [[x0, y0]]) {
          const left = anchor === 'middle' ? x - w / 2 : x;
          const box = [left - 2, y - 11, left + w + 2, y + 3];
          if (taken.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) continue;
          taken.push(box);
          layer.append(text({ class: cls, x, y, 'text-anchor': anchor }, content));
          break;
        }
      }
    }

    function zoomAt(factor, px, py) {
      const k = Math.max(M.fitK / 3, Math.min(M.fitK * 300, M.k * factor));
      const wx = M.cx + (px - M.w / 2) / M.k;
      const wy = M.cy + (py - M.h / 2) / M.k;
      M.k = k;
      M.cx = wx - (px - M.w / 2) / k;
      M.cy = wy - (py - M.h / 2) / k;
      M.userMoved = true;
      renderSoonMap();
    }
    let pending = false;
    function renderSoonMap() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; render(); });
    }

    function focus(lon, lat) {
      [M.cx, M.cy] = proj(lon, lat);
      M.k = Math.max(M.k, M.fitK * 4);
      M.userMoved = true;
      render();
    }

    function reset() {
      M.userMoved = false;
      M.places = [];
      M.hulls = [];
    }

    function install() {
      const el = svg();
      let drag = null;
      el.addEventListener('pointerdown', (e) => {
        drag = { x: e.clientX, y: e.clientY, cx: M.cx, cy: M.cy, id: e.pointerId };
        M.moved = false;
      });
      el.addEventListener('pointermove', (e) => {
        if (!drag) return;
        const dx = e.clientX - drag.x;
        const dy = e.clientY - drag.y;
        if (!M.moved && Math.hypot(dx, dy) < 4) return;
        if (!M.moved) { el.setPointerCapture(drag.id); el.classList.add('dragging'); }
        M.moved = true;
        M.cx = drag.cx - dx / M.k;
        M.cy = drag.cy - dy / M.k;
        M.userMoved = true;
        renderSoonMap();
      });
      const end = () => { drag = null; el.classList.remove('dragging'); };
      el.addEventListener('pointerup', end);
      el.addEventListener('pointercancel', end);
      el.addEventListener('wheel', (e) => {
        e.preventDefault();
        const r = el.getBoundingClientRect();
        zoomAt(Math.pow(1.0015, -e.deltaY), e.clientX - r.left, e.clientY - r.top);
      }, { passive: false });
      el.addEventListener('dblclick', (e) => {
        const r = el.getBoundingClientRect();
        zoomAt(2, e.clientX - r.left, e.clientY - r.top);
      });
      $('zoom-in').addEventListener('click', () => zoomAt(1.6, M.w / 2, M.h / 2));
      $('zoom-out').addEventListener('click', () => zoomAt(1 / 1.6, M.w / 2, M.h / 2));
      $('zoom-fit').addEventListener('click', () => { M.userMoved = false; fit(); render(); });
      if (window.ResizeObserver) new ResizeObserver(() => resize()).observe(el);
      else window.addEventListener('resize', resize);
    }

    return { install, render, resize, setPlaces, focus, reset, loadLandmarks, sources: () => M.source };
  })();

  // ---- humans in the loop: correct an alert, call back, enter an alert by hand ----------------
  // Kept apart from the list and the map: the alert's own panel gains a correction form, and
  // one side panel holds either the call-back queue or the entry form.
  const Humans = (() => {
    const H = { mode: null, drafts: new Map(), entry: {}, msg: null, drawn: '' };
    const humanCategories = () => W.categories.filter((c) => c !== 'FLASH');
    const SOURCES = ['radio', 'call', 'visit', 'other'];
    const RESULTS = ['confirmed', 'not_confirmed', 'unreachable'];
    const isOperator = () => !!S.me && (S.me.role === 'operator' || S.me.role === 'admin');

    /** FLASH calls and high or critical alerts nobody has confirmed yet, oldest first. */
    function queue() {
      return [...S.alerts.values()].filter((a) => (a.status === 'new' || a.status === 'acknowledged')
        && (a.category === 'FLASH' || a.severity === 'high' || a.severity === 'critical'))
        .sort((x, y) => Date.parse(x.received_at) - Date.parse(y.received_at) || x.id - y.id);
    }

    function field(id, labelText, control) {
      return [h('label', { for: id, text: labelText }), control];
    }
    function select(id, options, value, onchange) {
      const el = h('select', { id }, options.map(([v, text]) => h('option', { value: v, text })));
      el.value = value ?? '';
      el.addEventListener('change', () => onchange(el.value));
      return el;
    }
    function input(id, tag, value, oninput, props = {}) {
      const el = h(tag, { id, ...props });
      el.value = value ?? '';
      el.addEventListener('input', () => oninput(el.value));
      return el;
    }

    // -- in the alert's panel: what humans said, and the correction form --
    function facts(a) {
      const rel = a.reporter_reliability;
      return section(t('d.summary'), dl([
        [t('d.summary'), a.summary],
        [t('d.source'), a.source ? label('src', a.source) : null],
        [t('d.reliability'), rel ? t('rel.line', { c: rel.confirmed, f: rel.false_alarm, n: rel.not_confirmed, days: rel.days }) : null],
        [t('cb.result'), a.verification ? `${label('res', a.verification.result)}${a.verification.how ? ` (${a.verification.how})` : ''}` : null],
      ]));
    }

    function correction(a, d) {
      const c = d.correctDraft || (d.correctDraft = {});
      const set = (k) => (v) => { c[k] = v; };
      const original = a.correction && a.correction.original;
      const grid = h('div', { class: 'form-grid' },
        field('c-category', t('entry.category'), select('c-category',
          [['', t('c.keep')], ...humanCategories().map((x) => [x, label('cat', x)])], c.category, set('category'))),
        field('c-severity', t('entry.severity'), select('c-severity',
          [['', t('c.keep')], ...SEVERITIES.map((x) => [x, label('sev', x)])], c.severity, set('severity'))),
        field('c-place', t('c.place'), input('c-place', 'input', c.place, set('place'), { maxlength: 200 })),
        ...['killed', 'wounded', 'abducted'].flatMap((k) => field(`c-${k}`, t(`n.${k}`),
          input(`c-${k}`, 'input', c[k], set(k), { type: 'number', min: 0, max: 100000 }))),
        field('c-summary', t('c.summary'), input('c-summary', 'textarea', c.summary, set('summary'), { maxlength: 2000 })));
      const submit = h('button', { type: 'button', id: 'correct-submit', 'data-action': 'correct', text: t('c.submit'),
        disabled: d.busy, onclick: () => correct(d) });
      return section(t('c.title'),
        original && h('p', { class: 'original', id: 'original-triage' }, h('b', {
          text: t('c.original', { cat: label('cat', original.category), sev: label('sev', original.severity),
            where: original.place ? where({ place: original.place }) : t('nowhere') }) })),
        a.correction && h('p', { class: 'original', text: t('c.fields', { fields: a.correction.fields.join(', '), by: a.correction.by }) }),
        grid, h('div', { class: 'actions' }, submit));
    }

    async function correct(d) {
      const c = d.correctDraft || {};
      const body = {};
      for (const k of ['category', 'severity', 'place', 'summary']) if ((c[k] || '').trim()) body[k] = c[k].trim();
      for (const k of ['killed', 'wounded', 'abducted']) if (String(c[k] ?? '').trim() !== '') body[k] = Number(c[k]);
      if (!Object.keys(body).length) { d.msg = { bad: true, text: t('c.nothing') }; renderDetail(); return; }
      if (await act('correct', body)) d.correctDraft = {};
    }

    // -- the side panel --
    function open(mode) {
      H.mode = H.mode === mode ? null : mode;
      H.msg = null;
      render(true);
    }

    function render(force = false) {
      const button = $('callbacks-open');
      if (!isOperator()) return;
      const waiting = queue();
      button.textContent = t('cb.open', { n: waiting.length });
      const box = $('humans');
      box.hidden = !H.mode;
      if (!H.mode) return;
      // Redrawn when the queue changes, not at every event: a call-back being typed stays.
      const drawn = `${H.mode}|${S.lang}|${waiting.map((a) => `${a.id}.${a.version}`).join(',')}|${H.msg?.text ?? ''}`;
      if (!force && drawn === H.drawn) return;
      H.drawn = drawn;
      const head = h('h2', {}, h('span', { text: t(H.mode === 'queue' ? 'cb.title' : 'entry.title') }),
        h('button', { class: 'close', type: 'button', title: t('close'), 'aria-label': t('close'), text: '×',
          onclick: () => open(H.mode) }));
      const msg = h('div', { class: `msg ${H.msg ? (H.msg.bad ? 'bad' : 'good') : ''}`, role: 'status', id: 'humans-msg', text: H.msg?.text || '' });
      box.replaceChildren(head, H.mode === 'queue' ? queueList(waiting) : entryForm(), msg);
    }

    function queueList(waiting) {
      if (!waiting.length) return h('p', { class: 'muted', text: t('cb.none') });
      return h('ol', { class: 'queue', id: 'queue' }, waiting.map((a) => {
        const dr = H.drafts.get(a.id) || {};
        H.drafts.set(a.id, dr);
        const number = h('span', { class: 'number', text: dr.number || '' });
        return h('li', { 'data-id': a.id, 'data-ref': a.ref },
          h('div', { class: 'row' },
            h('b', { class: 'ref', text: a.ref }),
            h('span', { class: `badge sev sev-${a.severity}`, text: label('sev', a.severity) }),
            h('span', { text: `${label('cat', a.category)} · ${where(a)}` }),
            h('span', { class: 'age', 'data-at': a.received_at, text: age(a.received_at) })),
          a.body && h('div', { class: 'muted', text: a.body }),
          a.verification && h('div', { class: 'muted', text: t('cb.last', { r: label('res', a.verification.result) }) }),
          h('div', { class: 'row' },
            h('button', { type: 'button', class: 'linklike', 'data-reveal': a.id, text: t('cb.reveal'), onclick: () => reveal(a, dr) }),
            number,
            h('button', { type: 'button', class: 'linklike', text: t('cb.detail'), onclick: () => { open(H.mode); openDetail(a.id); } })),
          h('div', { class: 'form-grid' },
            field(`cb-result-${a.id}`, t('cb.result'), select(`cb-result-${a.id}`,
              RESULTS.map((r) => [r, label('res', r)]), dr.result || 'confirmed', (v) => { dr.result = v; })),
            field(`cb-said-${a.id}`, t('cb.said'), input(`cb-said-${a.id}`, 'textarea', dr.said, (v) => { dr.said = v; }, { maxlength: 2000 }))),
          h('div', { class: 'actions' }, h('button', { type: 'button', class: 'go', 'data-callback': a.id,
            text: t('cb.submit'), onclick: () => calledBack(a, dr) })));
      }));
    }

    async function reveal(a, dr) {
      try {
        // Through the reveal of the reporter: who looked at the number is recorded.
        dr.number = a.reporter_id != null
          ? (await api(`/api/v1/reporters/${a.reporter_id}/reveal`, { method: 'POST' })).data.phone
          : a.from_phone;
        H.msg = null;
      } catch (e) {
        H.msg = { bad: true, text: t('a.failed', { detail: e.message }) };
      }
      render(true);
    }

    async function calledBack(a, dr) {
      const body = { action: 'verify', how: 'callback', result: dr.result || 'confirmed' };
      if ((dr.said || '').trim()) body.summary = dr.said.trim();
      try {
        const { data } = await api(`/api/v1/alerts/${a.id}/actions`, {
          method: 'POST', body, headers: { 'If-Match': `"${a.version}"` } });
        upsert(data);
        H.drafts.delete(a.id);
        H.msg = { bad: false, text: `${data.ref} · ${label('res', body.result)} · ${label('cat', data.category)} · ${where(data)}` };
      } catch (e) {
        H.msg = { bad: true, text: e.status === 412 ? t('a.stale') : e.status === 409
          ? t('a.conflict', { allowed: (e.body?.allowed || []).join(', ') }) : t('a.failed', { detail: e.message }) };
        loadAlerts();
      }
      renderSoon();
      render(true);
    }

    function entryForm() {
      const e = H.entry;
      const set = (k) => (v) => { e[k] = v; };
      return h('form', { id: 'entry-form', class: 'actionform', onsubmit: (ev) => { ev.preventDefault(); enter(); } },
        h('div', { class: 'form-grid' },
          field('e-text', t('entry.text'), input('e-text', 'textarea', e.text, set('text'), { maxlength: 2000, required: true })),
          field('e-source', t('entry.source'), select('e-source', SOURCES.map((x) => [x, label('src', x)]), e.source || 'radio', set('source'))),
          field('e-reporter', t('entry.reporter'), input('e-reporter', 'input', e.reporter, set('reporter'), { maxlength: 32 })),
          field('e-place', t('entry.place'), input('e-place', 'input', e.place, set('place'), { maxlength: 200 })),
          field('e-category', t('entry.category'), select('e-category',
            [['', t('entry.auto')], ...humanCategories().map((x) => [x, label('cat', x)])], e.category, set('category'))),
          field('e-severity', t('entry.severity'), select('e-severity',
            [['', t('entry.auto')], ...SEVERITIES.map((x) => [x, label('sev', x)])], e.severity, set('severity')))),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'go', id: 'entry-submit', text: t('entry.submit') })));
    }

    async function enter() {
      const e = H.entry;
      if (!(e.text || '').trim()) { H.msg = { bad: true, text: t('entry.needText') }; render(true); return; }
      const body = { text: e.text.trim(), source: e.source || 'radio' };
      for (const k of ['place', 'category', 'severity']) if ((e[k] || '').trim()) body[k] = e[k].trim();
      const reporter = (e.reporter || '').trim();
      if (reporter) body.reporter = /^\d{1,9}$/.test(reporter) ? Number(reporter) : reporter;
      try {
        const { data } = await api('/api/v1/alerts', { method: 'POST', body });
        upsert(data);
        H.entry = {};
        H.msg = { bad: false, text: t('entry.done', { ref: data.ref }) };
        renderSoon();
      } catch (err) {
        H.msg = { bad: true, text: t('a.failed', { detail: err.message }) };
      }
      render(true);
    }

    function signedIn() {
      for (const id of ['callbacks-open', 'entry-open']) $(id).hidden = !isOperator();
    }
    function signedOut() {
      Object.assign(H, { mode: null, drafts: new Map(), entry: {}, msg: null, drawn: '' });
      for (const id of ['callbacks-open', 'entry-open', 'humans']) $(id).hidden = true;
    }
    function install() {
      $('callbacks-open').addEventListener('click', () => open('queue'));
      $('entry-open').addEventListener('click', () => open('entry'));
    }
    return { correction, facts, render, signedIn, signedOut, install };
  })();

  // ---- start ------------------------------------------------------------------------------
  function start() {
    loadPrefs();
    renderChrome();
    Map_.install();
    Humans.install();
    Map_.loadLandmarks();
    $('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const key = $('key').value.trim();
      if (key) signIn(key);
    });
    $('signin-button').disabled = false;
    $('signout').addEventListener('click', () => signOut(''));
    $('lang').addEventListener('change', (e) => {
      S.lang = e.target.value in I18N ? e.target.value : 'fr';
      savePrefs();
      renderChrome();
      if (S.flash) $('flash').textContent = flashText(S.flash.a, S.flash.n);   // also when hidden
      renderList();
      renderDetail();
      Map_.render();
      Humans.render(true);
    });
    $('sound').addEventListener('click', () => {
      S.sound = !S.sound;
      savePrefs();
      renderChrome();
      if (S.sound) beep(1);   // also unlocks audio: browsers allow it only after a click
    });
    const filterIds = { 'f-severity': 'severity', 'f-status': 'status', 'f-category': 'category', 'f-admin2': 'admin2' };
    $('f-sort').addEventListener('change', (e) => {
      S.sort = e.target.value === 'newest' ? 'newest' : 'priority';
      savePrefs();
      renderSoon();
    });
    for (const [id, name] of Object.entries(filterIds)) {
      $(id).addEventListener('change', (e) => {
        S.filters[name] = e.target.value;
        savePrefs();
        renderSoon();
        if (S.key) loadAlerts();   // older alerts that match the new filters
      });
    }
    $('flash').addEventListener('click', (e) => {
      e.currentTarget.hidden = true;
      seen();
      if (e.currentTarget.dataset.id) openDetail(e.currentTarget.dataset.id);
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && S.detail && !e.target.closest?.('textarea, input')) closeDetail();
    });
    document.addEventListener('pointerdown', () => {
      if (S.sound) audio();
      if (S.unseen && !document.hidden) seen();
    });
    setInterval(tickAges, 30000);
    document.addEventListener('visibilitychange', () => { if (!document.hidden) tickAges(); });
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) signIn(key);
    else $('key').focus();
  }

  start();
})();
