import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const DATA_COMPONENTS =
  /node_modules[\\/](antd[\\/]es[\\/](table|pagination|select|tree|tree-select|upload|descriptions|statistic|date-picker|time-picker|calendar|cascader|transfer|auto-complete|checkbox|radio|image|list|tabs|popover|progress|steps|timeline|collapse|carousel|color-picker|slider|rate|qr-code|tour|splitter|float-button|watermark|mentions|input-number|empty|modal|drawer|popconfirm|dropdown)[\\/]|@rc-component[\\/](table|pagination|select|tree|tree-select|upload|picker|cascader|virtual-list|image|tabs|steps|collapse|slider|rate|color-picker|mentions|input-number|tour|dialog|drawer|dropdown|progress|qrcode|checkbox|mini-decimal)[\\/]|dayjs[\\/]plugin)/;

export function antdChunk(id: string): string {
  return DATA_COMPONENTS.test(id) ? "antd-data" : "antd";
}

// Vendor groups get their own chunks (antd and echarts are large and change rarely); every page is a
// lazy import (src/modules.tsx), so the first screen loads only the shell, React and antd.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: "echarts", test: /node_modules[\\/](echarts|zrender)[\\/]/, priority: 30 },
            // antd in two chunks: what the shell and the login need, and the data components that
            // only the (lazy) pages use, so the first screen stays under the 350 kB gzip budget
            { name: antdChunk, test: /node_modules[\\/](antd|@ant-design|@rc-component|rc-[^\\/]+|@emotion|stylis|dayjs|throttle-debounce|compute-scroll-into-view|scroll-into-view-if-needed|classnames|clsx)[\\/]/, priority: 20 },
            { name: "react", test: /node_modules[\\/](react|react-dom|react-router|scheduler|cookie)[\\/]/, priority: 10 },
            { name: "i18n", test: /node_modules[\\/](i18next|react-i18next|html-parse-stringify|void-elements)[\\/]/, priority: 10 },
          ],
        },
      },
    },
  },
  server: {
    // `npm run dev` against a running node: KAM_NODE_URL=http://127.0.0.1:PORT npm run dev
    proxy: Object.fromEntries(
      ["/api", "/tmf-api", "/.well-known"].map((p) => [p, process.env.KAM_NODE_URL ?? "http://127.0.0.1:8000"]),
    ),
  },
});
