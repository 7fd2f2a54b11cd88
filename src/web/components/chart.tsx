/**
 * The deployment chart (uPlot): traffic weight per target group on top, tasks per task set below,
 * sharing one time axis and cursor, with alarm changes and operator actions drawn as labelled
 * vertical lines. The markers are also listed as text under the chart, and the chart has a text
 * summary, so nothing is only in pixels.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import type { ChartData, Marker, Series } from "../chart-data.ts";
import { time } from "../format.ts";

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function colour(s: Series): string {
  const base = s.role === "blue" || s.role === "old" ? css("--blue") : s.role === "green" || s.role === "new" ? css("--green") : css("--muted");
  return s.metric === "failed" ? css("--red") : base;
}

const MARKER_VAR: Record<Marker["kind"], string> = { alarm: "--red", operator: "--amber", failure: "--red" };

/** Draws the markers as dashed vertical lines, numbered to match the list under the chart. */
function markerPlugin(markers: readonly Marker[], labels: boolean): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const ctx = u.ctx;
        const { top, height } = u.bbox;
        ctx.save();
        markers.forEach((m, i) => {
          const x = Math.round(u.valToPos(m.at / 1000, "x", true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          ctx.strokeStyle = css(MARKER_VAR[m.kind]);
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          if (labels) {
            ctx.setLineDash([]);
            ctx.fillStyle = css(MARKER_VAR[m.kind]);
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.fillText(String(i + 1), x + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
          }
        });
        ctx.restore();
      },
    },
  };
}

function options(title: string, series: Series[], width: number, yLabel: string, markers: readonly Marker[], range: [number, number] | null, labels: boolean, sync: string): uPlot.Options {
  const axis = { stroke: css("--muted"), grid: { stroke: css("--grid"), width: 1 }, ticks: { stroke: css("--grid"), width: 1 } };
  return {
    title,
    width,
    height: 190,
    cursor: { sync: { key: sync }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: range ? { range } : { range: (_u, _min, max) => [0, Math.max(2, Math.ceil(max * 1.15))] } },
    axes: [{ ...axis }, { ...axis, label: yLabel, size: 50 }],
    series: [
      { value: (_u, v) => (v === null ? "—" : time(new Date(v * 1000).toISOString())) },
      ...series.map((s) => ({
        label: s.label,
        stroke: colour(s),
        width: (s.metric === "weight" || s.metric === "running" ? 2.5 : 1.5) * 1,
        dash: s.metric === "healthy" ? [6, 4] : s.metric === "failed" ? [2, 3] : [],
        paths: uPlot.paths.stepped!({ align: 1 }),
        points: { show: false },
        spanGaps: false,
      })),
    ],
    plugins: [markerPlugin(markers, labels)],
  };
}

function ChartPane({ data, series, title, yLabel, range, labels }: { data: ChartData; series: Series[]; title: string; yLabel: string; range: [number, number] | null; labels: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [width, setWidth] = useState(0);
  const [scheme, setScheme] = useState(0);

  useEffect(() => {
    const el = box.current!;
    const observer = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    observer.observe(el);
    const media = matchMedia("(prefers-color-scheme: dark)");
    const onScheme = () => setScheme((n) => n + 1);
    media.addEventListener("change", onScheme);
    return () => {
      observer.disconnect();
      media.removeEventListener("change", onScheme);
    };
  }, []);

  const shape = series.map((s) => s.label).join("|");
  // Build the plot when its series, size or colours change; otherwise only feed it new data.
  useEffect(() => {
    if (!width || series.length === 0) return;
    plot.current?.destroy();
    plot.current = new uPlot(options(title, series, width, yLabel, data.markers, range, labels, "deployment"), [data.xs, ...series.map((s) => s.values)] as uPlot.AlignedData, box.current!);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, width, scheme, data.markers.length]);

  useEffect(() => {
    plot.current?.setData([data.xs, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [data]);

  return <div class="chart-pane" ref={box} />;
}

export function DeploymentChart({ data, summary }: { data: ChartData; summary: string }) {
  if (data.xs.length === 0) {
    return <p class="muted">No samples yet: they are recorded while the deployment runs (weights, tasks and alarms at each observation).</p>;
  }
  const labels = data.markers.length <= 30;
  return (
    <figure class="chart" aria-label="Traffic weight and tasks over time">
      <figcaption class="sr-only">{summary}</figcaption>
      {data.weights.length ? <ChartPane data={data} series={data.weights} title="Traffic weight per target group" yLabel="% of traffic" range={[0, 100]} labels={labels} /> : null}
      {data.tasks.length ? <ChartPane data={data} series={data.tasks} title="Tasks (solid: running, dashed: healthy, dotted: failed)" yLabel="tasks" range={null} labels={labels} /> : null}
      {data.markers.length ? (
        <ol class="markers" aria-label="Marked on the chart">
          {data.markers.map((m, i) => (
            <li key={i} class={m.kind} value={i + 1}>
              <time dateTime={new Date(m.at).toISOString()}>{time(new Date(m.at).toISOString())}</time> <span class={`badge ${m.kind === "operator" ? "warn" : "bad"}`}>{m.kind === "operator" ? "operator" : m.kind === "alarm" ? "alarm" : "failure"}</span> {m.label}
            </li>
          ))}
        </ol>
      ) : null}
    </figure>
  );
}
