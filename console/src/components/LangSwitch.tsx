import { Segmented } from "antd";
import { useLang } from "../lang";

export default function LangSwitch() {
  const { lang, setLang } = useLang();
  return (
    <Segmented
      data-testid="lang-switch"
      size="small"
      value={lang}
      onChange={(v) => setLang(v === "en" ? "en" : "zh")}
      options={[
        { label: "中文", value: "zh" },
        { label: "EN", value: "en" },
      ]}
    />
  );
}
