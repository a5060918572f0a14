/* The workflow designer: add, rename, remove and reorder stages (drag with SortableJS, or the
   Up/Down buttons), add criteria, steps and approvals from <template>s, keep the field names
   (stages-0-steps-1-title) in order, redraw the board preview and the matrix of allowed moves.
   The form posts as any form; the server checks and saves. */
(function () {
  "use strict";

  const form = document.querySelector("[data-designer]");
  if (!form) return;
  const list = form.querySelector("[data-stages]");
  const preview = form.querySelector("[data-preview]");
  const matrix = form.querySelector("[data-matrix]");
  const announce = form.querySelector("[data-announce]");
  const newStage = form.querySelector("#wd-new-stage");
  const categoryNames = { open: "Open", won: "Won", lost: "Lost" };
  let created = 0;

  const stages = () => Array.from(list.children);
  const labelOf = (stage) => stage.querySelector("[data-k='label']").value.trim();
  const categoryOf = (stage) => stage.querySelector("[data-k='category']").value;
  const uidOf = (stage) => stage.dataset.uid;

  /* Writes only what changed: a drag starting while a blurred name's change event redraws must
     find its stage untouched. */
  function setAttr(element, name, value) {
    if (element.getAttribute(name) !== value) element.setAttribute(name, value);
  }

  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  function say(text) {
    if (announce) announce.textContent = text;
  }

  /* -- names and ids --------------------------------------------------------------------- */

  function rename(scope, prefix) {
    scope.querySelectorAll("[data-k]").forEach((control) => {
      if (control.closest("[data-item]") !== scope) return;
      const name = `${prefix}-${control.dataset.k}`;
      const id = `f-${name}`;
      const field = control.closest(".wd-field");
      if (field && field.closest("[data-item]") === scope) {
        const label = field.querySelector("label");
        if (label) setAttr(label, "for", id);
        const error = field.querySelector(".field-error");
        if (error) {
          setAttr(error, "id", `${id}-error`);
          setAttr(control, "aria-describedby", `${id}-error`);
        }
      }
      setAttr(control, "name", name);
      if (control.type !== "hidden") setAttr(control, "id", id);
    });
  }

  function renumber() {
    const all = stages();
    all.forEach((stage, i) => {
      const prefix = `stages-${i}`;
      rename(stage, prefix);
      stage.querySelectorAll("[data-list]").forEach((sub) => {
        Array.from(sub.children).forEach((item, j) => {
          rename(item, `${prefix}-${sub.dataset.list}-${j}`);
        });
      });
      const name = labelOf(stage) || "this stage";
      setText(stage.querySelector(".wd-stage-number"), String(i + 1));
      const up = stage.querySelector("[data-move='-1']");
      const down = stage.querySelector("[data-move='1']");
      if (up.disabled !== (i === 0)) up.disabled = i === 0;
      if (down.disabled !== (i === all.length - 1)) down.disabled = i === all.length - 1;
      setAttr(up, "aria-label", `Move ${name} up`);
      setAttr(down, "aria-label", `Move ${name} down`);
      setAttr(stage.querySelector("[data-remove-stage]"), "aria-label", `Remove ${name}`);
      const counts = [
        ["criteria", "criterion", "criteria"],
        ["steps", "step", "steps"],
        ["approvals", "approval", "approvals"],
      ]
        .map(([list, one, many]) => {
          const n = stage.querySelector(`[data-list='${list}']`).children.length;
          return n ? `${n} ${n === 1 ? one : many}` : "";
        })
        .filter(Boolean)
        .join(" · ");
      setText(stage.querySelector("[data-counts]"), counts ? `(${counts})` : "");
      const modeBox = stage.querySelector("[data-mode-box]");
      const several = stage.querySelector("[data-list='approvals']").children.length > 1;
      if (modeBox.hidden === several) modeBox.hidden = !several;
      ["open", "won", "lost"].forEach((category) => {
        const wanted = category === categoryOf(stage);
        if (stage.classList.contains(`wd-cat-${category}`) !== wanted) {
          stage.classList.toggle(`wd-cat-${category}`, wanted);
        }
      });
    });
    const empty = form.querySelector("[data-no-stages]");
    if (empty.hidden !== all.length > 0) empty.hidden = all.length > 0;
  }

  /* -- the board preview ----------------------------------------------------------------- */

  function drawPreview() {
    preview.replaceChildren();
    const all = stages();
    if (!all.length) {
      const empty = document.createElement("li");
      empty.className = "wd-col wd-col-empty";
      empty.textContent = "No stages yet";
      preview.append(empty);
      return;
    }
    all.forEach((stage) => {
      const category = categoryOf(stage);
      const column = document.createElement("li");
      column.className = `wd-col wd-col-${category}`;
      const name = document.createElement("span");
      name.className = "wd-col-name";
      name.textContent = labelOf(stage) || "Untitled stage";
      const kind = document.createElement("span");
      kind.className = "wd-col-cat";
      kind.textContent = categoryNames[category] || category;
      column.append(name, kind);
      preview.append(column);
    });
  }

  /* -- the matrix of allowed moves --------------------------------------------------------- */

  function ticked() {
    const chosen = new Set();
    matrix.querySelectorAll("input[name='moves']").forEach((input) => {
      if (input.type === "hidden" || input.checked) chosen.add(input.value);
    });
    return chosen;
  }

  function drawMatrix(chosen) {
    const selected = chosen || ticked();
    const all = stages();
    const rows = [["*", "Any open stage"], ...all.map((s) => [uidOf(s), labelOf(s) || "Untitled stage"])];
    const table = document.createElement("table");
    const caption = document.createElement("caption");
    caption.textContent = "Tick where a record may go (columns) from where it is (rows).";
    table.append(caption);
    const head = document.createElement("tr");
    const corner = document.createElement("th");
    corner.scope = "col";
    corner.textContent = "From \u2192 to";
    head.append(corner);
    all.forEach((s) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = labelOf(s) || "Untitled stage";
      head.append(th);
    });
    const thead = document.createElement("thead");
    thead.append(head);
    const tbody = document.createElement("tbody");
    rows.forEach(([from, fromName]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = fromName;
      tr.append(th);
      all.forEach((s) => {
        const td = document.createElement("td");
        const to = uidOf(s);
        if (to === from) {
          td.textContent = "\u2014";
        } else {
          const box = document.createElement("input");
          box.type = "checkbox";
          box.name = "moves";
          box.value = `${from}>${to}`;
          box.checked = selected.has(box.value);
          box.setAttribute("aria-label", `From ${fromName} to ${labelOf(s) || "Untitled stage"}`);
          td.append(box);
        }
        tr.append(td);
      });
      tbody.append(tr);
    });
    table.append(thead, tbody);
    const tools = document.createElement("div");
    tools.className = "wd-matrix-tools";
    [
      ["forward", "Tick forward moves only"],
      ["all", "Tick every move"],
      ["none", "Clear"],
    ].forEach(([preset, text]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-small btn-ghost";
      button.dataset.preset = preset;
      button.textContent = text;
      tools.append(button);
    });
    matrix.replaceChildren(table, tools);
  }

  function preset(kind) {
    const all = stages();
    const chosen = new Set();
    all.forEach((target, j) => {
      const to = uidOf(target);
      if (kind === "all") {
        chosen.add(`*>${to}`);
        all.forEach((source) => {
          if (source !== target) chosen.add(`${uidOf(source)}>${to}`);
        });
      } else if (kind === "forward") {
        if (categoryOf(target) === "lost") chosen.add(`*>${to}`);
        all.slice(0, j).forEach((source) => {
          if (categoryOf(source) === "open") chosen.add(`${uidOf(source)}>${to}`);
        });
      }
    });
    drawMatrix(chosen);
  }

  function refresh() {
    renumber();
    drawPreview();
    drawMatrix();
  }

  /* -- adding, removing, moving ------------------------------------------------------------ */

  function fromTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function addStage() {
    const stage = fromTemplate("wd-stage-template");
    created += 1;
    stage.dataset.uid = `new-${created}-${Date.now().toString(36)}`;
    stage.querySelector("[data-k='uid']").value = stage.dataset.uid;
    stage.querySelector("[data-k='label']").value = newStage.value.trim();
    list.append(stage);
    const name = newStage.value.trim();
    newStage.value = "";
    refresh();
    if (name) {
      say(`${name} added as stage ${stages().length}.`);
      newStage.focus();
    } else {
      stage.querySelector("[data-k='label']").focus();
    }
  }

  function move(stage, step) {
    const all = stages();
    const at = all.indexOf(stage);
    const to = at + step;
    if (to < 0 || to >= all.length) return;
    if (step < 0) list.insertBefore(stage, all[to]);
    else list.insertBefore(all[to], stage);
    refresh();
    say(`${labelOf(stage) || "The stage"} is now stage ${to + 1} of ${all.length}.`);
    const button = stage.querySelector(`[data-move='${step}']`);
    (button.disabled ? stage.querySelector(`[data-move='${-step}']`) : button).focus();
  }

  form.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target || !form.contains(target)) return;
    const stage = target.closest("[data-item='stages']");
    if (target.matches("[data-add-stage]")) {
      addStage();
    } else if (target.matches("[data-move]") && stage) {
      move(stage, Number(target.dataset.move));
    } else if (target.matches("[data-remove-stage]") && stage) {
      const next = stage.nextElementSibling || stage.previousElementSibling;
      const name = labelOf(stage) || "The stage";
      stage.remove();
      refresh();
      say(`${name} removed.`);
      (next ? next.querySelector("[data-k='label']") : newStage).focus();
    } else if (target.matches("[data-add]") && stage) {
      const kind = target.dataset.add;
      const item = fromTemplate(`wd-${kind}-template`);
      stage.querySelector(`[data-list='${kind}']`).append(item);
      refresh();
      item.querySelector("select, input").focus();
    } else if (target.matches("[data-remove-item]") && stage) {
      const item = target.closest("[data-item]");
      const section = item.closest(".wd-section");
      item.remove();
      refresh();
      section.querySelector("[data-add]").focus();
    } else if (target.matches("[data-preset]")) {
      preset(target.dataset.preset);
    } else if (target.matches("[data-copy-json]")) {
      copyJson(target);
    }
  });

  newStage.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      addStage();
    }
  });

  /* an edited field's error is the server's answer to the old value: it goes with it */
  function clearError(control) {
    const field = control.closest(".wd-field.has-error");
    if (!field) return;
    field.classList.remove("has-error");
    const error = field.querySelector(".field-error");
    if (error) error.remove();
    control.removeAttribute("aria-invalid");
    control.removeAttribute("aria-describedby");
  }

  form.addEventListener("input", (event) => {
    if (event.target.matches("[data-k]")) clearError(event.target);
    if (event.target.matches("[data-k='label']")) {
      renumber();
      drawPreview();
    }
  });

  form.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-k]")) clearError(target);
    if (target.matches("[data-k='label'], [data-k='category']")) {
      refresh();
    } else if (target.name === "moves_mode") {
      matrix.hidden = target.value !== "chosen";
      if (target.value === "chosen" && ticked().size === 0) preset("forward");
    }
  });

  /* -- export ------------------------------------------------------------------------------- */

  function copyJson(button) {
    const status = form.querySelector("[data-copy-status]");
    fetch(button.dataset.copyJson, { credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then((text) => navigator.clipboard.writeText(text))
      .then(() => {
        status.textContent = "JSON of the saved workflow copied.";
      })
      .catch(() => {
        status.textContent = "Could not copy: use Download JSON instead.";
      });
  }

  if (window.Sortable) {
    window.Sortable.create(list, {
      handle: ".wd-handle",
      animation: 150,
      onEnd: () => {
        refresh();
      },
    });
  }
  refresh();
})();
