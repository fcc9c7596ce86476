//! Generates the desktop icon set (PNGs, `icon.ico`, `icon.icns`) from one square source PNG.

use std::collections::BTreeMap;
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use icns::{IconFamily, IconType};
use image::codecs::png::{CompressionType, FilterType as PngFilterType, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageFormat, RgbaImage};

/// The smallest source edge accepted, because the `.icns` file carries a 1024 px entry and
/// upscaling would only blur it.
const MIN_SOURCE_SIZE: u32 = 1024;

/// The PNG files `tauri icon` writes for desktop targets (Linux PNGs and the AppX logos), with
/// their edge length in pixels.
const PNG_ICONS: [(&str, u32); 15] = [
    ("32x32.png", 32),
    ("64x64.png", 64),
    ("128x128.png", 128),
    ("128x128@2x.png", 256),
    ("icon.png", 512),
    ("Square30x30Logo.png", 30),
    ("Square44x44Logo.png", 44),
    ("Square71x71Logo.png", 71),
    ("Square89x89Logo.png", 89),
    ("Square107x107Logo.png", 107),
    ("Square142x142Logo.png", 142),
    ("Square150x150Logo.png", 150),
    ("Square284x284Logo.png", 284),
    ("Square310x310Logo.png", 310),
    ("StoreLogo.png", 50),
];

/// The `.ico` layers, in the order `tauri icon` writes them (32 px first), so the file matches
/// what the Tauri tooling itself would produce.
const ICO_SIZES: [u32; 6] = [32, 16, 24, 48, 64, 256];

/// The `.icns` entries `tauri icon` writes, in a fixed order so the file is byte-for-byte
/// reproducible (`tauri icon` iterates a hash map, so its order varies). Like `tauri icon`, the
/// 16 and 32 px 1x entries use the classic RLE + mask types (`is32`/`s8mk`, `il32`/`l8mk`) and
/// everything else is PNG-encoded; 64 px is present as the 32 px @2x entry.
const ICNS_TYPES: [IconType; 10] = [
    IconType::RGB24_16x16,
    IconType::RGBA32_16x16_2x,
    IconType::RGB24_32x32,
    IconType::RGBA32_32x32_2x,
    IconType::RGBA32_128x128,
    IconType::RGBA32_128x128_2x,
    IconType::RGBA32_256x256,
    IconType::RGBA32_256x256_2x,
    IconType::RGBA32_512x512,
    IconType::RGBA32_512x512_2x,
];

/// Reads the square source PNG at `source` and writes the full Tauri v2 desktop icon set into
/// `out_dir`, returning the paths written in the order they were written.
///
/// The output depends only on the source pixels, so running it twice gives identical bytes and
/// regenerating does not dirty git.
pub fn generate(source: &Path, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let source_image = load_source(source)?;
    fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create icon output directory {}", out_dir.display()))?;

    let mut resizer = Resizer::new(&source_image);
    let mut written = Vec::new();

    for (name, size) in PNG_ICONS {
        let bytes = encode_png(resizer.rgba(size))
            .with_context(|| format!("cannot encode {name} ({size}x{size})"))?;
        written.push(write_file(out_dir, name, &bytes)?);
    }

    let ico = encode_ico(&mut resizer).context("cannot build icon.ico")?;
    written.push(write_file(out_dir, "icon.ico", &ico)?);

    let icns = encode_icns(&mut resizer).context("cannot build icon.icns")?;
    written.push(write_file(out_dir, "icon.icns", &icns)?);

    Ok(written)
}

/// Decodes the source PNG and checks it is square and large enough, so a wrong file fails
/// with a message naming the problem rather than producing a distorted icon set.
fn load_source(source: &Path) -> Result<RgbaImage> {
    let bytes = fs::read(source)
        .with_context(|| format!("cannot read source icon {}", source.display()))?;
    let decoded = image::load_from_memory_with_format(&bytes, ImageFormat::Png)
        .with_context(|| format!("source icon {} is not a readable PNG", source.display()))?;
    let (width, height) = (decoded.width(), decoded.height());
    if width != height {
        bail!(
            "source icon {} is {width}x{height} px; it must be square (e.g. {MIN_SOURCE_SIZE}x{MIN_SOURCE_SIZE})",
            source.display()
        );
    }
    if width < MIN_SOURCE_SIZE {
        bail!(
            "source icon {} is {width}x{height} px; it must be at least {MIN_SOURCE_SIZE}x{MIN_SOURCE_SIZE}",
            source.display()
        );
    }
    Ok(decoded.into_rgba8())
}

/// Resizes the source once per distinct size and remembers the result, because several
/// outputs share a size and each Lanczos pass over a 1024 px source is comparatively slow.
struct Resizer {
    /// The source with colour channels premultiplied by alpha, in 0.0..=1.0 floats. It is kept
    /// as a `DynamicImage` so resampling runs through `DynamicImage::resize_exact`, whose code
    /// is compiled in the `image` crate and so honours an `opt-level` override for it in dev
    /// builds; the generic `imageops::resize` would be compiled unoptimised inside xtask.
    premultiplied: DynamicImage,
    cache: BTreeMap<u32, RgbaImage>,
}

impl Resizer {
    fn new(source: &RgbaImage) -> Self {
        // Resampling straight (non-premultiplied) RGBA lets the colour of fully transparent
        // pixels bleed into the antialiased edge, so the edge is filtered premultiplied.
        let mut premultiplied = DynamicImage::ImageRgba8(source.clone()).into_rgba32f();
        for pixel in premultiplied.pixels_mut() {
            let alpha = pixel.0[3];
            for channel in &mut pixel.0[..3] {
                *channel *= alpha;
            }
        }
        Self {
            premultiplied: DynamicImage::ImageRgba32F(premultiplied),
            cache: BTreeMap::new(),
        }
    }

    /// Returns the source resized to `size` x `size` as straight-alpha RGBA8.
    fn rgba(&mut self, size: u32) -> &RgbaImage {
        let premultiplied = &self.premultiplied;
        self.cache
            .entry(size)
            .or_insert_with(|| resize_premultiplied(premultiplied, size))
    }
}

/// Lanczos3-resizes a premultiplied float image and converts it back to straight-alpha RGBA8.
fn resize_premultiplied(source: &DynamicImage, size: u32) -> RgbaImage {
    // Resizing an `ImageRgba32F` yields an `ImageRgba32F`, so this conversion does not copy.
    let resized = source
        .resize_exact(size, size, FilterType::Lanczos3)
        .into_rgba32f();
    let mut out = RgbaImage::new(size, size);
    for (dst, src) in out.pixels_mut().zip(resized.pixels()) {
        // Lanczos overshoots near hard edges, so alpha is clamped before it is divided out.
        let [red, green, blue, alpha] = src.0;
        let alpha = alpha.clamp(0.0, 1.0);
        let unpremultiply = |channel: f32| if alpha > 0.0 { channel / alpha } else { 0.0 };
        dst.0 = [
            to_u8(unpremultiply(red)),
            to_u8(unpremultiply(green)),
            to_u8(unpremultiply(blue)),
            to_u8(alpha),
        ];
    }
    out
}

/// Converts a 0.0..=1.0 channel to 8 bits, clamping the filter's overshoot.
fn to_u8(channel: f32) -> u8 {
    // The clamp keeps the value within 0.0..=255.0, so the cast cannot truncate.
    (channel.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Encodes an image as an 8-bit RGBA PNG; the colour type is fixed rather than inferred
/// because Tauri refuses RGB PNGs even when the icon happens to be fully opaque.
fn encode_png(image: &RgbaImage) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Best, PngFilterType::Adaptive)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgba8,
        )?;
    Ok(bytes)
}

/// Builds the Windows `.ico` with one PNG-encoded layer per entry of [`ICO_SIZES`].
///
/// The `ico` crate stores a layer as an RGB PNG when the layer has no transparency at all.
/// The careid mark has transparent rounded corners, so every layer comes out RGBA; a fully
/// opaque source would still give a valid `.ico`, just with RGB layers.
fn encode_ico(resizer: &mut Resizer) -> Result<Vec<u8>> {
    let mut dir = ico::IconDir::new(ico::ResourceType::Icon);
    for size in ICO_SIZES {
        let image = ico::IconImage::from_rgba_data(size, size, resizer.rgba(size).as_raw().clone());
        let entry = ico::IconDirEntry::encode_as_png(&image)
            .with_context(|| format!("cannot encode the {size} px .ico layer"))?;
        dir.add_entry(entry);
    }
    let mut bytes = Vec::new();
    dir.write(&mut bytes)?;
    Ok(bytes)
}

/// Builds the macOS `.icns` with one entry (plus its mask, where the type has one) per entry
/// of [`ICNS_TYPES`].
fn encode_icns(resizer: &mut Resizer) -> Result<Vec<u8>> {
    let mut family = IconFamily::new();
    for icon_type in ICNS_TYPES {
        let size = icon_type.pixel_width();
        let image = icns::Image::from_data(
            icns::PixelFormat::RGBA,
            size,
            size,
            resizer.rgba(size).as_raw().clone(),
        )
        .with_context(|| format!("cannot wrap the {size} px image for {icon_type:?}"))?;
        family
            .add_icon_with_type(&image, icon_type)
            .with_context(|| format!("cannot encode the {icon_type:?} .icns entry"))?;
    }
    let mut bytes = Cursor::new(Vec::new());
    family.write(&mut bytes)?;
    Ok(bytes.into_inner())
}

/// Writes one output file and returns its path.
fn write_file(out_dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = out_dir.join(name);
    fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    use image::{ColorType, Rgba};

    /// A scratch directory under the system temp dir, unique per process and test, removed
    /// when the test ends (tempfile is not a dependency of xtask).
    struct ScratchDir(PathBuf);

    impl ScratchDir {
        fn new(test: &str) -> Self {
            let path = std::env::temp_dir()
                .join(format!("careid-xtask-icons-{}-{test}", std::process::id()));
            // A leftover from an earlier crashed run with a recycled pid must not leak into
            // this one.
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Writes a source PNG with a blue disc on a transparent background, so the antialiased
    /// edge and alpha handling are exercised.
    fn write_source(dir: &Path, width: u32, height: u32) -> PathBuf {
        let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
        let radius = width.min(height) as f32 * 0.45;
        let image = RgbaImage::from_fn(width, height, |x, y| {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            if (dx * dx + dy * dy).sqrt() <= radius {
                Rgba([0x00, 0x5e, 0xb8, 0xff])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let path = dir.join("source.png");
        image.save(&path).unwrap();
        path
    }

    #[test]
    fn writes_a_complete_valid_icon_set_reproducibly() {
        let scratch = ScratchDir::new("complete");
        let source = write_source(&scratch.0, 1024, 1024);
        let out_dir = scratch.0.join("first");
        let rerun_dir = scratch.0.join("second");

        // The two runs go in parallel because an unoptimised build spends several seconds
        // resampling, and comparing two independent runs is what proves reproducibility.
        let (written, rerun) = std::thread::scope(|scope| {
            let first = scope.spawn(|| generate(&source, &out_dir));
            let second = generate(&source, &rerun_dir);
            (first.join().unwrap().unwrap(), second.unwrap())
        });

        let expected: Vec<&str> = PNG_ICONS
            .iter()
            .map(|(name, _)| *name)
            .chain(["icon.ico", "icon.icns"])
            .collect();
        let in_dir =
            |dir: &Path| -> Vec<PathBuf> { expected.iter().map(|n| dir.join(n)).collect() };
        assert_eq!(written, in_dir(&out_dir));
        assert_eq!(rerun, in_dir(&rerun_dir));
        for name in &expected {
            assert!(
                fs::read(out_dir.join(name)).unwrap() == fs::read(rerun_dir.join(name)).unwrap(),
                "{name} differs between two runs over the same source"
            );
        }

        for (name, size) in PNG_ICONS {
            let bytes = fs::read(out_dir.join(name)).unwrap();
            let decoded = image::load_from_memory_with_format(&bytes, ImageFormat::Png).unwrap();
            assert_eq!(decoded.color(), ColorType::Rgba8, "{name} must be RGBA8");
            assert_eq!((decoded.width(), decoded.height()), (size, size), "{name}");
        }

        let ico_dir =
            ico::IconDir::read(Cursor::new(fs::read(out_dir.join("icon.ico")).unwrap())).unwrap();
        let ico_sizes: Vec<(u32, u32)> = ico_dir
            .entries()
            .iter()
            .map(|entry| (entry.width(), entry.height()))
            .collect();
        let expected_ico_sizes: Vec<(u32, u32)> = ICO_SIZES.iter().map(|&s| (s, s)).collect();
        assert_eq!(ico_sizes, expected_ico_sizes);
        for entry in ico_dir.entries() {
            assert!(
                entry.is_png(),
                "{} px .ico layer must be PNG",
                entry.width()
            );
            let layer =
                image::load_from_memory_with_format(entry.data(), ImageFormat::Png).unwrap();
            assert_eq!(
                layer.color(),
                ColorType::Rgba8,
                "{} px .ico layer must be RGBA8",
                entry.width()
            );
            let image = entry.decode().unwrap();
            assert_eq!(
                (image.width(), image.height()),
                (entry.width(), entry.height())
            );
        }

        let family =
            IconFamily::read(Cursor::new(fs::read(out_dir.join("icon.icns")).unwrap())).unwrap();
        assert_eq!(family.available_icons(), ICNS_TYPES.to_vec());
        for icon_type in ICNS_TYPES {
            let image = family.get_icon_with_type(icon_type).unwrap();
            assert_eq!(
                (image.width(), image.height()),
                (icon_type.pixel_width(), icon_type.pixel_height()),
                "{icon_type:?}"
            );
        }
    }

    #[test]
    fn opaque_images_are_still_encoded_as_rgba() {
        let opaque = RgbaImage::from_pixel(32, 32, Rgba([0x00, 0x5e, 0xb8, 0xff]));

        let bytes = encode_png(&opaque).unwrap();

        let decoded = image::load_from_memory_with_format(&bytes, ImageFormat::Png).unwrap();
        assert_eq!(decoded.color(), ColorType::Rgba8);
    }

    #[test]
    fn refuses_a_non_square_source() {
        let scratch = ScratchDir::new("non-square");
        let source = write_source(&scratch.0, 1024, 1000);

        let error = generate(&source, &scratch.0.join("icons")).unwrap_err();

        let message = format!("{error:#}");
        assert!(message.contains("1024x1000"), "{message}");
        assert!(message.contains("must be square"), "{message}");
        assert!(
            !scratch.0.join("icons").exists(),
            "nothing is written on refusal"
        );
    }

    #[test]
    fn refuses_a_source_smaller_than_1024() {
        let scratch = ScratchDir::new("too-small");
        let source = write_source(&scratch.0, 512, 512);

        let error = generate(&source, &scratch.0.join("icons")).unwrap_err();

        let message = format!("{error:#}");
        assert!(message.contains("at least 1024x1024"), "{message}");
    }

    #[test]
    fn refuses_a_missing_source() {
        let scratch = ScratchDir::new("missing");
        let source = scratch.0.join("absent.png");

        let error = generate(&source, &scratch.0.join("icons")).unwrap_err();

        assert!(format!("{error:#}").contains("cannot read source icon"));
    }
}
