import { Alert, Drawer, Modal, Notification, createTheme, type CSSVariablesResolver } from "@mantine/core";

/**
 * theme is Vigil's Mantine theme: indigo accents, system font. The filled shade is
 * darker than Mantine's default so white text on buttons meets WCAG AA contrast, and
 * every close button gets an accessible name.
 */
export const theme = createTheme({
  primaryColor: "indigo",
  respectReducedMotion: true,
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: "md",
  fontFamily:
    "Inter, ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
  fontFamilyMonospace: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
  headings: { fontWeight: "650" },
  components: {
    // Light alerts put coloured titles on a tint of the same colour: too faint.
    Alert: Alert.extend({ styles: { title: { color: "var(--mantine-color-text)" } } }),
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close dialog" } } }),
    Drawer: Drawer.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close panel" } } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { "aria-label": "Dismiss notification" } } }),
  },
});

const tinted = ["green", "teal", "red", "orange", "yellow", "blue", "violet", "indigo", "cyan", "grape", "pink"];
// Text colours for light badges and alerts on a light tint, at least 4.5:1 on shade 1.
const darkText: Record<string, string> = {
  green: "#1b5e27", teal: "#064e3f", red: "#9b1c1c", orange: "#8a3300", yellow: "#6b4500",
  blue: "#0b4f8a", violet: "#4f2a9c", indigo: "#2b3a96", cyan: "#0a5563", grape: "#6e1c80",
  pink: "#8e1a52",
};

/**
 * cssVariables darkens what Mantine draws at shade 6 on white or on a light tint
 * (dimmed text, light badges and alerts), which is about 3:1; WCAG AA asks 4.5:1 for
 * small text. axe-core checks every page in the end-to-end run.
 */
export const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    "--mantine-color-dimmed": "#5f666d",
    "--mantine-color-gray-light-color": "var(--mantine-color-gray-8)",
    ...Object.fromEntries(tinted.map((c) => [`--mantine-color-${c}-light-color`, darkText[c]])),
  },
  dark: {
    "--mantine-color-dimmed": "#a6a7ab",
    ...Object.fromEntries(tinted.map((c) => [`--mantine-color-${c}-light-color`, `var(--mantine-color-${c}-3)`])),
  },
});
