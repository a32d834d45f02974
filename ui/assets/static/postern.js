// Postern's one script, served as /static/postern.js. Everything works
// without it; it only makes pages nicer: local times, port defaults and
// "Test connection" without leaving (or emptying) the form, and Copy
// buttons (hidden without the script: the text is there to select).
'use strict';

function localTimes() {
  for (const t of document.querySelectorAll('time[datetime]')) {
    const d = new Date(t.dateTime);
    if (Number.isNaN(d.getTime())) continue;
    t.title = t.textContent;
    t.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }
}

// Changing the encryption fills in its usual port, unless the port was typed.
function portDefaults(form) {
  for (const port of form.querySelectorAll('input[data-port-for]')) {
    const select = form.querySelector('#' + port.dataset.portFor);
    if (!select) continue;
    const defaults = (select.dataset.defaultPorts || '').split(',');
    const known = new Set(defaults);
    select.addEventListener('change', () => {
      if (port.value !== '' && !known.has(port.value)) return;
      const value = defaults[select.selectedIndex];
      if (value) port.value = value;
    });
  }
}

function showErrors(form, errors) {
  for (const p of form.querySelectorAll('[data-error-for]')) {
    const message = errors[p.dataset.errorFor] || '';
    p.textContent = message;
    const input = form.querySelector('#' + p.dataset.errorFor);
    if (!input) continue;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

function line(ok, name, message) {
  const p = document.createElement('p');
  p.className = 'probe-line ' + (ok ? 'ok' : 'bad');
  const strong = document.createElement('strong');
  strong.textContent = name + ':';
  p.append(strong, ' ' + message);
  return p;
}

function say(box, nodes) {
  box.replaceChildren(...nodes);
  box.classList.toggle('shown', nodes.length > 0);
}

// "Test connection" posts the form in the background and shows the
// server's answer; the passwords stay in their fields.
function connectionTest(form) {
  const button = form.querySelector('[data-test-button]');
  const box = form.querySelector('#probe-result');
  if (!button || !box) return;
  button.addEventListener('click', async (event) => {
    event.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    body.set('action', 'test');
    button.disabled = true;
    button.classList.add('busy');
    const label = button.textContent;
    button.textContent = 'Testing…';
    say(box, [line(true, 'Testing', 'logging in to your mail server…')]);
    box.querySelector('p').className = 'probe-line pending';
    try {
      // form.action would be the button named "action".
      const response = await fetch(form.getAttribute('action'), {
        method: 'POST',
        body,
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      const type = response.headers.get('Content-Type') || '';
      if (!type.startsWith('application/json')) {
        say(box, [line(false, 'Not tested', response.status === 403
          ? 'the form has expired. Reload the page and try again.'
          : 'your login has ended. Reload the page and log in again.')]);
        return;
      }
      const result = await response.json();
      showErrors(form, result.errors || {});
      const nodes = [];
      if (result.form_error) nodes.push(line(false, 'Not tested', result.form_error));
      if (result.imap) nodes.push(line(result.imap.ok, 'IMAP', result.imap.message));
      if (result.smtp && result.smtp.tested) nodes.push(line(result.smtp.ok, 'SMTP', result.smtp.message));
      if (!result.imap && !result.form_error) {
        nodes.push(line(false, 'Not tested', result.error_description || 'correct the fields marked below first.'));
      }
      say(box, nodes);
    } catch (err) {
      say(box, [line(false, 'Not tested', 'Postern could not be reached. Check your connection and try again.')]);
    } finally {
      button.disabled = false;
      button.classList.remove('busy');
      button.textContent = label;
    }
  });
}

// A Copy button copies the value (an input) or the text of the element it
// names, and says so; where the clipboard is refused it selects the text.
function copyButton(button) {
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  button.hidden = false;
  const label = button.textContent;
  let timer;
  button.addEventListener('click', async () => {
    const text = 'value' in source ? source.value : source.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch (err) {
      if ('select' in source) source.select();
      else window.getSelection().selectAllChildren(source);
      button.textContent = 'Press Ctrl+C';
    }
    clearTimeout(timer);
    timer = setTimeout(() => { button.textContent = label; }, 2500);
  });
}

document.addEventListener('DOMContentLoaded', () => {
  localTimes();
  for (const button of document.querySelectorAll('button[data-copy]')) copyButton(button);
  for (const form of document.querySelectorAll('form[data-account-form]')) {
    portDefaults(form);
    connectionTest(form);
  }
});
