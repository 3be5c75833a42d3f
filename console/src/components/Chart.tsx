// The one ECharts component: echarts is used directly (echarts-for-react does not build under Vite 8).
// It lives in its own chunk (vite.config.ts) and is loaded only by the pages that draw charts.
import { BarChart, GraphChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";

echarts.use([BarChart, GraphChart, LineChart, PieChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

export interface ChartProps {
  option: echarts.EChartsCoreOption;
  height?: number;
  onClick?: (params: { name: string; dataIndex: number; seriesName?: string }) => void;
  testId?: string;
}

export default function Chart({ option, height = 300, onClick, testId }: ChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (!ref.current) return;
    const instance = echarts.init(ref.current, undefined, { renderer: "canvas" });
    chart.current = instance;
    const resize = () => instance.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    // no animation under automation (a screenshot then shows the data, not a bar half-grown)
    chart.current?.setOption({ animation: !navigator.webdriver, ...option }, { notMerge: true });
  }, [option]);

  useEffect(() => {
    const instance = chart.current;
    if (!instance || !onClick) return;
    const handler = (p: unknown) => onClick(p as { name: string; dataIndex: number; seriesName?: string });
    instance.on("click", handler);
    return () => {
      instance.off("click", handler);
    };
  }, [onClick]);

  return <div ref={ref} style={{ width: "100%", height }} data-testid={testId} />;
}
