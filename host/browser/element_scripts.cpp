#include "browser/element_scripts.hpp"

#include <nlohmann/json.hpp>

namespace belay::browser {
namespace {

constexpr const char* kSelectorEngine =
    R"JS(  // Selectors: CSS by default, `text=` (visible text; quoted: exact) and
  // `xpath=`. A selector that cannot be parsed is the script's mistake, not
  // something to wait for: it throws a fatal problem at once.
  const fatal = (message) => { const e = new Error(message); e.belayFatal = message; return e; };
  const quoted = (s) => "'" + s + "'";
  const normalize = (t) => t.replace(/\s+/g, ' ').trim();
  const queryAll = (selector) => {
    if (typeof selector !== 'string' || selector.trim() === '') {
      throw fatal('the selector is empty');
    }
    if (selector.startsWith('xpath=')) {
      let found;
      try {
        found = document.evaluate(selector.slice(6), document, null,
                                  XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
      } catch (e) {
        throw fatal(quoted(selector) + ' is not a valid XPath expression');
      }
      const out = [];
      for (let i = 0; i < found.snapshotLength; i++) {
        const node = found.snapshotItem(i);
        if (node.nodeType === Node.ELEMENT_NODE) out.push(node);
      }
      return out;
    }
    if (selector.startsWith('text=')) {
      let body = selector.slice(5);
      const exact = body.length >= 2 && /^(["']).*\1$/s.test(body);
      const want = exact ? normalize(body.slice(1, -1)) : normalize(body).toLowerCase();
      if (want === '') throw fatal(quoted(selector) + ' has no text to look for');
      const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'HEAD', 'TITLE']);
      const textOf = (el) => normalize(el.innerText || '');
      const lowerWant = want.toLowerCase();
      // Prunes the walk: an element holds the text somewhere inside.
      const holds = (el) => !skip.has(el.tagName) &&
                            !(el.checkVisibility && !el.checkVisibility()) &&
                            textOf(el).toLowerCase().includes(lowerWant);
      const isMatch = (el) => exact ? textOf(el) === want : true;
      // The deepest elements whose text matches: the button, not the body
      // around it.
      const out = [];
      const visit = (el) => {
        let found = false;
        for (const child of el.children) {
          if (holds(child) && visit(child)) found = true;
        }
        if (!found && isMatch(el)) {
          out.push(el);
          return true;
        }
        return found;
      };
      const root = document.body || document.documentElement;
      if (root && holds(root)) visit(root);
      return out;
    }
    const css = selector.startsWith('css=') ? selector.slice(4) : selector;
    try {
      return Array.from(document.querySelectorAll(css));
    } catch (e) {
      throw fatal(quoted(selector) + ' is not a valid selector (CSS, text=… or xpath=…)');
    }
  };
)JS";

constexpr const char* kActHead = R"JS(async (selector, action, args, timeoutMs) => {
)JS";
constexpr const char* kActTail = R"JS(  const sel = quoted(selector);
  const force = !!args.force;
  const box = (el) => el.getBoundingClientRect();
  const isVisible = (el) => {
    const r = box(el);
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility === 'visible';
  };
  const isDisabled = (el) =>
    (['BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'OPTION', 'OPTGROUP'].includes(el.tagName) &&
     el.matches(':disabled')) || el.closest('[aria-disabled="true"]') !== null;
  const setTypes = ['date', 'time', 'datetime-local', 'month', 'week', 'color', 'range'];
  const notText = ['checkbox', 'radio', 'file', 'submit', 'button', 'reset', 'image', 'hidden'];
  // Why `el` cannot take text: null, a problem that may pass (read-only), or
  // a fatal one (it is a checkbox).
  const editProblem = (el) => {
    if (el.isContentEditable) return null;
    if (el.tagName === 'INPUT' && notText.includes(el.type)) {
      throw fatal(sel + ' is an <input type=' + el.type + '>, which takes no text');
    }
    if (el.tagName !== 'INPUT' && el.tagName !== 'TEXTAREA') {
      throw fatal(sel + ' is a <' + el.tagName.toLowerCase() +
                  '>, not an <input>, a <textarea> or a contenteditable element');
    }
    return el.readOnly ? sel + ' is read-only' : null;
  };
  const isCheckable = (el) =>
    (el.tagName === 'INPUT' && (el.type === 'checkbox' || el.type === 'radio')) ||
    ['checkbox', 'radio', 'switch'].includes(el.getAttribute('role'));
  const checkedState = (el) => {
    if (el.tagName === 'INPUT' && (el.type === 'checkbox' || el.type === 'radio')) {
      return el.checked;
    }
    if (isCheckable(el)) return el.getAttribute('aria-checked') === 'true';
    throw fatal(sel + ' is not a checkbox or a radio button');
  };
  // What covers a point: the nearest element with an id that does not hold
  // the target itself, else its tag and classes.
  const describe = (hit, el) => {
    for (let n = hit; n && !n.contains(el); n = n.parentElement) {
      if (n.id) return '#' + n.id;
    }
    const cls = typeof hit.className === 'string' && hit.className.trim()
                    ? '.' + hit.className.trim().split(/\s+/).join('.') : '';
    return hit.tagName.toLowerCase() + cls;
  };
  const owns = (el, hit) => {
    for (let n = hit; n; n = n.parentNode || n.host) if (n === el) return true;
    return false;
  };
  const frame = () => new Promise((resolve) => {
    let done = false;
    const once = () => { if (!done) { done = true; resolve(); } };
    requestAnimationFrame(once);
    setTimeout(once, 50);  // rAF stalls in a hidden tab
  });
  const inViewport = (r) =>
    r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
  const pointIn = (r) => args.position
      ? { x: r.left + args.position.x, y: r.top + args.position.y }
      : { x: r.left + r.width / 2, y: r.top + r.height / 2 };

  // Which conditions each action waits for, as Playwright's actionability.
  const needs = {
    click: 'vseh', hover: 'vsh', check: 'vseh', type: 've', fill: 've', select: 've',
    focus: '', upload: '', text: '', attr: '', value: '', html: '', checked: '', wait: '',
    box: 'v',
  }[action];
  if (needs === undefined) throw new Error('belay: unknown action ' + action);

  const attempt = async () => {
    const found = queryAll(selector);
    if (action === 'wait') {
      const want = args.state;
      const el = found[0];
      if (want === 'attached') return el ? {} : { reason: 'no element matches ' + sel };
      if (want === 'visible') {
        if (!el) return { reason: 'no element matches ' + sel };
        return found.some(isVisible) ? {} : { reason: sel + ' is not visible' };
      }
      // hidden: nothing matches, or nothing that matches is visible
      return found.some(isVisible) ? { reason: sel + ' is still visible' } : {};
    }
    const el = found[0];
    if (!el) return { reason: 'no element matches ' + sel };
    if (!force) {
      if (needs.includes('v') && !isVisible(el)) return { reason: sel + ' is not visible' };
      if (needs.includes('e') && isDisabled(el)) return { reason: sel + ' is disabled' };
    }
    if (action === 'fill') {
      const problem = editProblem(el);  // throws when el can never take text
      if (problem && !force) return { reason: problem };
    }
    if (action === 'check') {
      const state = checkedState(el);
      if (!args.checked && el.type === 'radio') {
        throw fatal(sel + ' is a radio button: uncheck it by checking another one');
      }
      if (state === !!args.checked) return { value: state, done: true };
    }
    if (needs.includes('h') || (force && ['click', 'hover', 'check'].includes(action))) {
      if (!inViewport(box(el))) {
        el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
      }
      if (!force && needs.includes('s')) {
        const before = box(el);
        await frame();
        const after = box(el);
        if (before.x !== after.x || before.y !== after.y || before.width !== after.width ||
            before.height !== after.height) {
          return { reason: sel + ' is not stable (it is moving)' };
        }
      }
      const point = pointIn(box(el));
      if (!force) {
        const hit = document.elementFromPoint(point.x, point.y);
        if (!hit) return { reason: sel + ' is outside the viewport' };
        if (!owns(el, hit)) return { reason: sel + ' is covered by ' + quoted(describe(hit, el)) };
      }
      return { x: point.x, y: point.y, value: action === 'check' ? checkedState(el) : null };
    }
    switch (action) {
      case 'text': return { value: el.innerText };
      case 'html': return { value: el.outerHTML };
      case 'attr': return { value: el.getAttribute(args.name) };
      case 'checked': return { value: checkedState(el) };
      case 'value':
        if (!('value' in el) || !['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)) {
          throw fatal(sel + ' is a <' + el.tagName.toLowerCase() +
                      '>, not an <input>, a <textarea> or a <select>');
        }
        return { value: el.value };
      case 'focus':
        el.focus();
        return {};
      case 'box': {
        // In document coordinates, for a screenshot's clip.
        if (!inViewport(box(el))) {
          el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
        }
        const r = box(el);
        return { x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height };
      }
      case 'upload':
        if (el.tagName !== 'INPUT' || el.type !== 'file') {
          throw fatal(sel + ' is not an <input type=file>');
        }
        if (args.count > 1 && !el.multiple) {
          throw fatal(sel + ' takes one file, not ' + args.count + ' (it is not multiple)');
        }
        return {};
      case 'type': {
        el.focus();
        if (typeof el.setSelectionRange === 'function' && typeof el.value === 'string') {
          try { el.setSelectionRange(el.value.length, el.value.length); } catch (e) {}
        }
        return {};
      }
      case 'fill': {
        el.focus();
        if (el.tagName === 'INPUT' && setTypes.includes(el.type)) {
          // Pickers take no keyboard text: the value is set as the picker would.
          el.value = args.text;
          if (args.text !== '' && el.value !== args.text && el.type !== 'range') {
            throw fatal(quoted(args.text) + ' is not a valid value for ' + sel +
                        ' (an <input type=' + el.type + '>)');
          }
          el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
          el.dispatchEvent(new Event('change', { bubbles: true }));
          return { set: true };
        }
        if (el.isContentEditable) {
          const range = document.createRange();
          range.selectNodeContents(el);
          const selection = getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        } else {
          el.select();
        }
        return { set: false };
      }
      case 'select': {
        if (el.tagName !== 'SELECT') throw fatal(sel + ' is not a <select>');
        const want = args.values;
        if (want.length > 1 && !el.multiple) {
          throw fatal(sel + ' takes one value, not ' + want.length + ' (it is not multiple)');
        }
        const options = Array.from(el.options);
        const chosen = [];
        for (const v of want) {
          const option = options.find((o) => o.value === v) ||
                         options.find((o) => normalize(o.label) === normalize(v));
          if (!option) return { reason: sel + ' has no option ' + quoted(v) };
          if (option.disabled) {
            return { reason: 'option ' + quoted(v) + ' of ' + sel + ' is disabled' };
          }
          chosen.push(option);
        }
        for (const o of options) o.selected = chosen.includes(o);
        el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
        return { value: Array.from(el.selectedOptions).map((o) => o.value) };
      }
    }
    throw new Error('belay: action ' + action + ' has no final step');
  };

  const deadline = Date.now() + timeoutMs;
  const pauses = [0, 20, 50, 100, 100, 200];
  for (let round = 0; ; round++) {
    let outcome;
    try {
      outcome = await attempt();
    } catch (e) {
      if (e && e.belayFatal) return { fatal: e.belayFatal };
      throw e;
    }
    if (!outcome.reason) return Object.assign({ ok: true }, outcome);
    const left = deadline - Date.now();
    if (left <= 0) return { ok: false, reason: outcome.reason };
    const pause = pauses[Math.min(round, pauses.length - 1)];
    await new Promise((r) => setTimeout(r, Math.min(pause, left)));
  }
}
)JS";

constexpr const char* kQueryHead = R"JS((selector, what) => {
)JS";
constexpr const char* kQueryTail = R"JS(  try {
    const found = queryAll(selector);
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility === 'visible';
    };
    switch (what) {
      case 'count': return { value: found.length };
      case 'exists': return { value: found.length > 0 };
      case 'texts': return { value: found.map((el) => el.innerText) };
      case 'visible': return { value: found.length > 0 && visible(found[0]) };
    }
    throw new Error('belay: unknown query ' + what);
  } catch (e) {
    if (e && e.belayFatal) return { fatal: e.belayFatal };
    throw e;
  }
}
)JS";

}  // namespace

const std::string& act_script() {
  static const std::string source = std::string(kActHead) + kSelectorEngine + kActTail;
  return source;
}

const std::string& query_script() {
  static const std::string source = std::string(kQueryHead) + kSelectorEngine + kQueryTail;
  return source;
}

const std::string& element_script() {
  static const std::string source = std::string("(selector) => {\n") + kSelectorEngine +
                                    "  const found = queryAll(selector);\n"
                                    "  return found.length > 0 ? found[0] : null;\n}";
  return source;
}

std::string first_element_expression(const std::string& selector, bool quiet) {
  const std::string call = "(" + element_script() + ")(" + nlohmann::json(selector).dump() + ")";
  return quiet ? "(() => { try { return " + call + "; } catch (e) { return null; } })()" : call;
}

}  // namespace belay::browser
