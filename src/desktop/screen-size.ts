/** A screen's size in pixels: the desktop's, and what RandR resizes it to. */
export interface ScreenSize {
  width: number;
  height: number;
}
