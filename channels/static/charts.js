// Tiny SVG charts for the rep console: vertical bars (pipeline, histogram, response times)
// and horizontal bars (segments). No library and nothing fetched: the page's content
// security policy allows only our own scripts. Every label goes in with textContent, and
// every chart carries a <title> and a <desc> listing its values for screen readers.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  let chartCount = 0;

  function svgEl(tag, attrs, text) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, String(value));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function describe(items) {
    return items.map((item) => item.label + ": " + (item.display ?? item.value)).join("; ");
  }

  // The <svg> shell: role=img, labelled by its own <title> and <desc>.
  function shell(width, height, title, items) {
    const id = "chart-" + ++chartCount;
    const svg = svgEl("svg", {
      viewBox: `0 0 ${width} ${height}`,
      class: "chart-svg",
      role: "img",
      "aria-labelledby": `${id}-title ${id}-desc`,
      preserveAspectRatio: "xMidYMid meet",
    });
    svg.appendChild(svgEl("title", { id: id + "-title" }, title));
    svg.appendChild(svgEl("desc", { id: id + "-desc" }, describe(items)));
    return svg;
  }

  // Round the axis maximum up to 1, 2 or 5 times a power of ten.
  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 5, 10]) {
      if (value <= step * power) return step * power;
    }
    return 10 * power;
  }

  // Split a label into at most two lines at a space, so stage names fit under their bar.
  function labelLines(label) {
    const words = String(label).split(" ");
    if (words.length < 2 || label.length <= 10) return [label];
    const half = Math.ceil(words.length / 2);
    return [words.slice(0, half).join(" "), words.slice(half).join(" ")];
  }

  /**
   * Vertical bar chart.
   * items: [{label, value, display?, muted?}]; format(value) labels the y axis.
   */
  function barChart({ title, items, format = String, width = 560, height = 260 }) {
    const margin = { top: 22, right: 12, bottom: 44, left: 58 };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const max = niceMax(Math.max(0, ...items.map((item) => item.value)));
    const svg = shell(width, height, title, items);
    const axis = svgEl("g", { class: "axis", "aria-hidden": "true" });
    for (const fraction of [0, 0.5, 1]) {
      const y = margin.top + plotH * (1 - fraction);
      axis.appendChild(svgEl("line", { x1: margin.left, x2: width - margin.right, y1: y, y2: y, class: "grid" }));
      axis.appendChild(svgEl("text", { x: margin.left - 6, y: y + 4, "text-anchor": "end" }, format(max * fraction)));
    }
    svg.appendChild(axis);
    const band = plotW / Math.max(1, items.length);
    const barW = Math.max(4, band * 0.68);
    items.forEach((item, index) => {
      const h = max ? (item.value / max) * plotH : 0;
      const x = margin.left + band * index + (band - barW) / 2;
      const y = margin.top + plotH - h;
      const group = svgEl("g", { class: "bar-group" });
      const rect = svgEl("rect", {
        x: x.toFixed(1), y: y.toFixed(1), width: barW.toFixed(1), height: Math.max(0, h).toFixed(1),
        rx: 3, class: "bar" + (item.muted ? " muted" : ""),
      });
      rect.appendChild(svgEl("title", {}, item.label + ": " + (item.display ?? item.value)));
      group.appendChild(rect);
      group.appendChild(svgEl("text", { x: x + barW / 2, y: y - 5, "text-anchor": "middle", class: "value" }, item.display ?? String(item.value)));
      labelLines(item.label).forEach((line, lineNo) => {
        group.appendChild(svgEl("text", {
          x: x + barW / 2, y: margin.top + plotH + 16 + lineNo * 13, "text-anchor": "middle", class: "label",
        }, line));
      });
      svg.appendChild(group);
    });
    return svg;
  }

  /** Horizontal bar chart: one row per item, label left, value right. */
  function hbarChart({ title, items, width = 560, rowHeight = 28 }) {
    const margin = { top: 8, right: 56, bottom: 8, left: 150 };
    const height = margin.top + margin.bottom + rowHeight * items.length;
    const plotW = width - margin.left - margin.right;
    const max = Math.max(1, ...items.map((item) => item.value));
    const svg = shell(width, height, title, items);
    items.forEach((item, index) => {
      const y = margin.top + rowHeight * index;
      const w = (item.value / max) * plotW;
      const group = svgEl("g", { class: "bar-group" });
      group.appendChild(svgEl("text", { x: margin.left - 8, y: y + rowHeight / 2 + 4, "text-anchor": "end", class: "label" }, item.label));
      const rect = svgEl("rect", {
        x: margin.left, y: y + 5, width: Math.max(0, w).toFixed(1), height: rowHeight - 10, rx: 3, class: "bar",
      });
      rect.appendChild(svgEl("title", {}, item.label + ": " + (item.display ?? item.value)));
      group.appendChild(rect);
      group.appendChild(svgEl("text", { x: margin.left + w + 6, y: y + rowHeight / 2 + 4, class: "value" }, item.display ?? String(item.value)));
      svg.appendChild(group);
    });
    return svg;
  }

  window.CrmCharts = { barChart, hbarChart, niceMax };
})();
