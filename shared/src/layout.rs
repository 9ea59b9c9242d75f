//! Label placement for plots: pure geometry, shared by the site's SVG plots and the command line's
//! plots, so that names beside points (reference models, operators) never cover each other.
//!
//! Greedy placement in the order given: each label takes the first free spot among right of its point,
//! left, above, below, then right or left at growing vertical distances (drawn with a leader line). A
//! spot is free when it stays inside the plot and overlaps no label already placed and no other
//! point. When no spot is free the label is not drawn (`shown` false): the caller keeps the point and
//! names it another way (a tooltip), so a crowded plot never prints one name over another.

/// A rectangle in pixels (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    fn overlap(&self, o: &Rect) -> f64 {
        let dx = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let dy = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        if dx > 0.0 && dy > 0.0 {
            dx * dy
        } else {
            0.0
        }
    }

    fn inside(&self, bounds: &Rect) -> bool {
        self.x >= bounds.x && self.y >= bounds.y && self.x + self.w <= bounds.x + bounds.w && self.y + self.h <= bounds.y + bounds.h
    }
}

/// A label to place: the point it names and the size of its text box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Label {
    /// The point, in pixels.
    pub x: f64,
    /// The point, in pixels.
    pub y: f64,
    /// Text width in pixels.
    pub w: f64,
    /// Text height in pixels.
    pub h: f64,
}

/// Where a label went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// The text box.
    pub rect: Rect,
    /// Whether the box is away from its point, so a line from the point to the box should be drawn.
    pub leader: bool,
    /// Whether the label found a free spot and is drawn.
    pub shown: bool,
}

/// Approximate width in pixels of `text` in a sans-serif font of `size` pixels (0.6 em per character,
/// a safe upper bound for DejaVu Sans and the browsers' default sans-serif faces at these sizes).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// Places every label inside `bounds`; see the module documentation.
pub fn place_labels(labels: &[Label], bounds: Rect) -> Vec<Placed> {
    const GAP: f64 = 5.0;
    const POINT: f64 = 4.0;
    let points: Vec<Rect> = labels.iter().map(|l| Rect { x: l.x - POINT, y: l.y - POINT, w: 2.0 * POINT, h: 2.0 * POINT }).collect();
    let mut placed: Vec<Placed> = Vec::with_capacity(labels.len());
    for (i, l) in labels.iter().enumerate() {
        let mut spots = vec![
            (l.x + GAP, l.y - l.h / 2.0, false),
            (l.x - GAP - l.w, l.y - l.h / 2.0, false),
            (l.x - l.w / 2.0, l.y - GAP - l.h, false),
            (l.x - l.w / 2.0, l.y + GAP, false),
        ];
        for k in 1..=16 {
            let dy = k as f64 * (l.h + 2.0);
            for sign in [-1.0, 1.0] {
                spots.push((l.x + GAP, l.y - l.h / 2.0 + sign * dy, true));
                spots.push((l.x - GAP - l.w, l.y - l.h / 2.0 + sign * dy, true));
            }
        }
        let cost = |r: &Rect| -> f64 {
            let labels: f64 = placed.iter().filter(|p| p.shown).map(|p| p.rect.overlap(r)).sum();
            let others: f64 = points.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| p.overlap(r)).sum();
            let outside = if r.inside(&bounds) { 0.0 } else { r.w * r.h };
            labels + others + outside
        };
        let free = spots.into_iter().map(|(x, y, leader)| (Rect { x, y, w: l.w, h: l.h }, leader)).find(|(rect, _)| cost(rect) == 0.0);
        placed.push(match free {
            Some((rect, leader)) => Placed { rect, leader, shown: true },
            None => Placed { rect: Rect { x: l.x, y: l.y, w: 0.0, h: 0.0 }, leader: false, shown: false },
        });
    }
    placed
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const BOUNDS: Rect = Rect { x: 0.0, y: 0.0, w: 400.0, h: 300.0 };

    #[test]
    fn labels_at_the_same_point_do_not_overlap() {
        // Two models priced at the same spot (as SmolLM2 and MobileLLM were on the Explorer).
        let labels = [Label { x: 100.0, y: 100.0, w: 60.0, h: 12.0 }, Label { x: 101.0, y: 100.5, w: 70.0, h: 12.0 }];
        let p = place_labels(&labels, BOUNDS);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].rect.overlap(&p[1].rect), 0.0, "{p:?}");
        assert!(p.iter().all(|q| q.rect.inside(&BOUNDS)));
    }

    #[test]
    fn a_lone_label_sits_right_of_its_point_and_one_at_the_edge_turns_inward() {
        let p = place_labels(&[Label { x: 50.0, y: 50.0, w: 40.0, h: 10.0 }, Label { x: 395.0, y: 200.0, w: 40.0, h: 10.0 }], BOUNDS);
        assert_eq!(p[0].rect, Rect { x: 55.0, y: 45.0, w: 40.0, h: 10.0 });
        assert!(!p[0].leader);
        assert_eq!(p[1].rect.x, 395.0 - 5.0 - 40.0);
    }

    #[test]
    fn a_crowd_of_labels_is_spread_out() {
        let labels: Vec<Label> = (0..12).map(|i| Label { x: 200.0 + i as f64, y: 150.0, w: 80.0, h: 12.0 }).collect();
        let p = place_labels(&labels, BOUNDS);
        assert!(p.iter().all(|q| q.shown));
        for i in 0..p.len() {
            for j in 0..i {
                assert_eq!(p[i].rect.overlap(&p[j].rect), 0.0, "{i} and {j}: {:?} {:?}", p[i], p[j]);
            }
        }
    }

    #[test]
    fn a_label_with_no_free_spot_is_not_drawn() {
        // 60 labels on one point of a 400 × 300 plot: 34 spots each (4 beside, 2 × 16 × 2 stacked), so
        // some names cannot be placed; those are dropped rather than drawn over the others.
        let labels: Vec<Label> = (0..60).map(|_| Label { x: 200.0, y: 150.0, w: 150.0, h: 12.0 }).collect();
        let p = place_labels(&labels, BOUNDS);
        let shown: Vec<&Placed> = p.iter().filter(|q| q.shown).collect();
        assert!(shown.len() < 60 && shown.len() > 10, "{}", shown.len());
        for (i, a) in shown.iter().enumerate() {
            for b in &shown[..i] {
                assert_eq!(a.rect.overlap(&b.rect), 0.0);
            }
        }
    }
}
