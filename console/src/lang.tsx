// The UI language: antd's ConfigProvider locale, dayjs' locale and i18next switch together, and the
// choice is remembered per user (localStorage; see i18n/index.ts).
import { ConfigProvider } from "antd";
import enUS from "antd/locale/en_US";
import zhCN from "antd/locale/zh_CN";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import i18n, { rememberLang, storedLang, type Lang } from "./i18n";
import { currentSession } from "./auth/session";

interface LangState {
  lang: Lang;
  setLang: (lang: Lang) => void;
}

const LangContext = createContext<LangState>({ lang: "zh", setLang: () => undefined });

export function applyLang(lang: Lang): void {
  dayjs.locale(lang === "zh" ? "zh-cn" : "en");
  void i18n.changeLanguage(lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function LangProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => storedLang(currentSession()?.claims.sub));
  useEffect(() => applyLang(lang), [lang]);
  const setLang = useCallback((next: Lang) => {
    rememberLang(next, currentSession()?.claims.sub);
    setLangState(next);
  }, []);
  const value = useMemo(() => ({ lang, setLang }), [lang, setLang]);
  return (
    <LangContext.Provider value={value}>
      <ConfigProvider locale={lang === "zh" ? zhCN : enUS} theme={{ token: { colorPrimary: "#1f5fbf" } }}>
        {children}
      </ConfigProvider>
    </LangContext.Provider>
  );
}

export function useLang(): LangState {
  return useContext(LangContext);
}
