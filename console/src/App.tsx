import { App as AntApp, Result, Spin } from "antd";
import { Suspense, useEffect, type ReactNode } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from "react-router";
import { setUnauthorizedHandler } from "./api/client";
import { useSession } from "./auth/useSession";
import AppLayout from "./components/AppLayout";
import { LangProvider } from "./lang";
import { SCREENS, visibleScreens } from "./modules";
import LoginPage from "./pages/login";
import PasswordPage from "./pages/password";
import { useTranslation } from "react-i18next";

/** A 401 anywhere: back to login, remembering the page to return to. */
function UnauthorizedRedirect() {
  const navigate = useNavigate();
  const location = useLocation();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (location.pathname !== "/login") {
        navigate(`/login?from=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
      }
    });
  }, [navigate, location]);
  return null;
}

function RequireAuth({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (!session) return <Navigate to={`/login?from=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  if (session.claims.must_change_password && location.pathname !== "/password") return <Navigate to="/password" replace />;
  return <>{children}</>;
}

function Forbidden() {
  const { t } = useTranslation();
  return <Result status="403" title={t("common.forbidden")} />;
}

function Routed() {
  const session = useSession();
  const visible = new Set(visibleScreens(session?.claims ?? null).map((s) => s.key));
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        path="/password"
        element={
          <RequireAuth>
            <PasswordPage />
          </RequireAuth>
        }
      />
      <Route
        path="/"
        element={
          <RequireAuth>
            <AppLayout />
          </RequireAuth>
        }
      >
        <Route index element={<Navigate to="/workbench" replace />} />
        {SCREENS.map((s) => (
          <Route
            key={s.key}
            path={s.path}
            element={
              visible.has(s.key) ? (
                <Suspense fallback={<Spin style={{ margin: 48 }} />}>
                  <s.page />
                </Suspense>
              ) : (
                <Forbidden />
              )
            }
          />
        ))}
        <Route path="*" element={<Result status="404" title="404" />} />
      </Route>
    </Routes>
  );
}

export default function App() {
  return (
    <LangProvider>
      <AntApp>
        <BrowserRouter>
          <UnauthorizedRedirect />
          <Routed />
        </BrowserRouter>
      </AntApp>
    </LangProvider>
  );
}
