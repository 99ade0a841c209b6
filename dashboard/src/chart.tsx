/**
 * The price chart of one feed: lightweight-charts (TradingView's library made for price
 * series) draws the hub's answers over time, with the breaker's trips and recoveries as
 * markers that carry a text label as well as a colour.
 */
import { useEffect, useRef } from 'preact/hooks';
import { ColorType, createChart, createSeriesMarkers, LineSeries, type IChartApi, type ISeriesApi, type SeriesMarker, type Time, type UTCTimestamp } from 'lightweight-charts';
import { toNumber, type BreakerMark, type HistoryPoint } from './chain.ts';

const MARK_TEXT: Record<BreakerMark['kind'], string> = { tripped: '▲ tripped', confirmed: '● confirmed', cleared: '● cleared', resolved: '● resolved', rejected: '✗ rejected' };

export function FeedChart({ name, decimals, points, marks }: { name: string; decimals: number; points: HistoryPoint[]; marks: BreakerMark[] }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<{ chart: IChartApi; series: ISeriesApi<'Line'> } | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const c = createChart(el.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: '#ffffff' }, textColor: '#1f2933' },
      timeScale: { timeVisible: true, secondsVisible: true },
      grid: { vertLines: { color: '#eef1f4' }, horzLines: { color: '#eef1f4' } },
    });
    const series = c.addSeries(LineSeries, { color: '#1d4ed8', lineWidth: 2, priceFormat: { type: 'price', precision: 4, minMove: 0.0001 } });
    chart.current = { chart: c, series };
    return () => {
      c.remove();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    // One point per second of observation time (the chart needs strictly increasing times).
    const bySecond = new Map<number, number>();
    for (const p of points) if (p.time > 0) bySecond.set(p.time, toNumber(p.answer, decimals));
    const data = [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time: time as UTCTimestamp, value }));
    c.series.setData(data);
    const ms: SeriesMarker<Time>[] = marks
      .filter((m) => m.time > 0)
      .sort((a, b) => a.time - b.time)
      .map((m) => ({
        time: m.time as UTCTimestamp,
        position: m.kind === 'tripped' ? 'aboveBar' : 'belowBar',
        shape: m.kind === 'tripped' ? 'arrowDown' : m.kind === 'rejected' ? 'square' : 'circle',
        color: m.kind === 'tripped' ? '#b45309' : m.kind === 'rejected' ? '#6b7280' : '#047857',
        text: MARK_TEXT[m.kind],
      }));
    createSeriesMarkers(c.series, ms);
    c.chart.timeScale().fitContent();
    // For the load benchmark and tests: the history is drawn once the next frame is painted.
    if (data.length && !performance.getEntriesByName('history-rendered').length) requestAnimationFrame(() => performance.mark('history-rendered', { detail: { points: data.length } }));
  }, [points, marks, decimals]);
  return <div ref={el} class="chart" role="img" aria-label={`${name} answers over time, ${points.length} rounds${marks.length ? `, ${marks.length} breaker events` : ''}`} />;
}
